using Cnn.Train.Data;

using Cnn.Tests;

namespace Cnn.Train.Tests;

public class IdxFileTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_images_and_labels_raw_or_gzip(bool gzip)
    {
        using var dir = new TempFolder();
        var (pixels, labels) = SyntheticMnist.Make(5, 10, new Random(1));
        string images = dir.Combine("images");
        string labelFile = dir.Combine("labels");
        SyntheticMnist.WriteImages(images, pixels, 5, gzip);
        SyntheticMnist.WriteLabels(labelFile, labels, gzip);

        var x = IdxFile.ReadImages(images);
        var y = IdxFile.ReadLabels(labelFile);

        Assert.Equal((5, 28, 28), (x.Count, x.Rows, x.Columns));
        Assert.Equal(pixels, x.Pixels);
        Assert.Equal(labels, y.Labels);
        IdxFile.CheckPair(x, y, 10);
    }

    [Fact]
    public void Label_file_given_as_images_names_both_magics()
    {
        var bytes = SyntheticMnist.LabelsBytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(bytes), "x.idx"));
        Assert.Equal("x.idx: magic number 2049 (0x00000801); expected 2051 (0x00000803) for an IDX image file — this is a label file", e.Message);
    }

    [Fact]
    public void Truncated_pixels_say_how_many_bytes_were_found()
    {
        var bytes = SyntheticMnist.ImagesBytes(new byte[3 * 28 * 28], 3);
        var cut = bytes[..(bytes.Length - 100)];
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(SyntheticMnist.Gzip(cut)), "t.gz"));
        Assert.Equal("t.gz: truncated: expected 3 images of 28×28 = 2,352 pixel bytes, found only 2,252 of 2,352 bytes", e.Message);
    }

    [Fact]
    public void Truncated_gzip_stream_is_reported_against_the_file()
    {
        var gz = SyntheticMnist.Gzip(SyntheticMnist.ImagesBytes(new byte[3 * 28 * 28], 3));
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(gz[..(gz.Length / 2)]), "half.gz"));
        Assert.StartsWith("half.gz: ", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_body_is_reported_against_the_file()
    {
        var gz = SyntheticMnist.Gzip(SyntheticMnist.ImagesBytes(new byte[3 * 28 * 28], 3));
        for (int i = 12; i < gz.Length - 8; i++)
        {
            gz[i] ^= 0x5A;
        }

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(gz), "bad.gz"));
        Assert.StartsWith("bad.gz: ", e.Message);
    }

    [Fact]
    public void Extra_bytes_after_the_announced_records_are_an_error()
    {
        var bytes = SyntheticMnist.LabelsBytes([1, 2, 3]).Concat(new byte[] { 9 }).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(new MemoryStream(bytes), "l"));
        Assert.Equal("l: unexpected data after the 3 label bytes the header announced; the file is longer than its header says", e.Message);
    }

    [Fact]
    public void Absurd_header_is_refused_before_allocating()
    {
        var bytes = SyntheticMnist.ImagesBytes([], 100_000, 1000, 1000);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(bytes), "huge"));
        Assert.Contains("huge: header says 100000 images of 1000×1000", e.Message);
    }

    [Fact]
    public void Mismatched_counts_name_both_files()
    {
        var images = new IdxImages("imgs", 4, 28, 28, new byte[4 * 28 * 28]);
        var labels = new IdxLabels("lbls", [0, 1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.CheckPair(images, labels, 10));
        Assert.Equal("lbls: 3 labels, but imgs has 4 images; expected the same count", e.Message);
    }

    [Fact]
    public void Label_out_of_range_names_the_record()
    {
        var images = new IdxImages("imgs", 3, 28, 28, new byte[3 * 28 * 28]);
        var labels = new IdxLabels("lbls", [0, 12, 2]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.CheckPair(images, labels, 10));
        Assert.Equal("lbls: label 12 at record 1; expected 0..9", e.Message);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.ReadImages("/nonexistent/imgs.gz"));
        Assert.Equal("IDX file not found: /nonexistent/imgs.gz", e.Message);
    }

    [Fact]
    public void A_folder_of_unpacked_files_reads_like_a_gzipped_one_and_pins_hold_either_way()
    {
        using var gz = new TempFolder();
        SyntheticMnist.Write(gz.Path, 20, 5);
        using var raw = new TempFolder();
        var pins = new Dictionary<string, string>();
        foreach (var name in DatasetCatalog.FileNames)
        {
            var content = SyntheticMnist.Ungzip(File.ReadAllBytes(gz.Combine(name)));
            File.WriteAllBytes(raw.Combine(Path.GetFileNameWithoutExtension(name)), content);
            pins[name] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        }

        Assert.True(DatasetCatalog.IsComplete(raw.Path));
        var fromGz = MnistFiles.InFolder(gz.Path, pins, "synthetic").Read(train: true, 10);
        var fromRaw = MnistFiles.InFolder(raw.Path, pins, "synthetic").Read(train: true, 10);
        Assert.Equal(fromGz.Images.Pixels, fromRaw.Images.Pixels);
        Assert.Equal(raw.Combine("train-images-idx3-ubyte"), fromRaw.Images.Source);
    }

    [Fact]
    public void A_mislabelled_file_is_refused_by_its_pin_naming_the_file()
    {
        using var dir = new TempFolder();
        SyntheticMnist.Write(dir.Path, 20, 5);
        var pins = DatasetCatalog.FileNames.ToDictionary(name => name,
            name => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(SyntheticMnist.Ungzip(File.ReadAllBytes(dir.Combine(name))))));
        var labels = IdxFile.ReadLabels(dir.Combine(DatasetCatalog.TestLabels)).Labels;
        labels[3] = (byte)((labels[3] + 1) % 10);
        SyntheticMnist.WriteLabels(dir.Combine(DatasetCatalog.TestLabels), labels, gzip: true);

        var files = MnistFiles.InFolder(dir.Path, pins, "synthetic");
        Assert.Equal(20, files.Read(train: true, 10).Images.Count);
        var e = Assert.Throws<InvalidDataException>(() => files.Read(train: false, 10));
        Assert.StartsWith($"{dir.Combine(DatasetCatalog.TestLabels)}: content SHA-256 ", e.Message);
        Assert.Contains($"; expected {pins[DatasetCatalog.TestLabels]}, synthetic's t10k-labels-idx1-ubyte. This is not the synthetic file as published", e.Message);
    }

    [Fact]
    public void Embedded_digits_are_5000_mnist_digits_in_mnist_geometry()
    {
        var files = MnistFiles.Embedded(DatasetCatalog.DigitsResource);
        var (trainX, trainY) = files.Read(train: true, 10);
        var (testX, _) = files.Read(train: false, 10);
        Assert.Equal(4000, trainX.Count);
        Assert.Equal(1000, testX.Count);
        Assert.Equal((28, 28), (trainX.Rows, trainX.Columns));
        Assert.Equal(10, trainY.Labels.Distinct().Count());

        // MNIST centres each digit's 20×20 box in 28×28: the ink is about 20 px tall (digits-5k's shrunk cells: about 14).
        double height = Enumerable.Range(0, trainX.Count).Average(i =>
        {
            var rows = Enumerable.Range(0, 28).Where(y => trainX.Pixels.AsSpan((i * 784) + (y * 28), 28).ContainsAnyExcept((byte)0)).ToList();
            return rows[^1] - rows[0] + 1;
        });
        Assert.InRange(height, 19, 20.5);
    }

    [Fact]
    public void A_header_of_exactly_2_to_the_31_bytes_is_refused_with_a_message()
    {
        // 2,048 images of 1,024×1,024 = 2³¹ bytes: one more than any byte array can hold.
        var bytes = SyntheticMnist.ImagesBytes([], 2048, 1024, 1024);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(bytes), "big"));
        Assert.Equal($"big: header says 2048 images of 1024×1024 (2,147,483,648 bytes); expected at most {Array.MaxLength:N0} bytes", e.Message);
    }

    [Fact]
    public void A_label_count_the_file_cannot_hold_is_truncation_not_an_allocation()
    {
        var bytes = SyntheticMnist.LabelsBytes([1, 2, 3]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), int.MaxValue);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(new MemoryStream(bytes), "labels"));
        Assert.Equal("labels: truncated: expected 2,147,483,647 label bytes, found only 3 of 2,147,483,647 bytes", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16_000_000, "the reader allocated what the header promised");
    }

    [Fact]
    public void A_gzip_bomb_with_another_count_than_its_labels_is_refused_before_it_is_inflated()
    {
        using var dir = new TempFolder();
        // 10 labels; an image file that inflates to 1 GB of zeros from 1 MB of gzip.
        SyntheticMnist.WriteLabels(dir.Combine(SyntheticMnist.TrainLabels), new byte[10], gzip: true);
        using (var file = File.Create(dir.Combine(SyntheticMnist.TrainImages)))
        using (var z = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            z.Write(SyntheticMnist.ImagesBytes([], 1_000_000, 1000, 1)[..16]);
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 953; i++)
            {
                z.Write(zeros);
            }
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidDataException>(() => MnistFiles.InFolder(dir.Path).Read(train: true, 10));
        Assert.Equal($"{dir.Combine(SyntheticMnist.TrainLabels)}: 10 labels, but {dir.Combine(SyntheticMnist.TrainImages)} has 1,000,000 images; expected the same count", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16_000_000, "the images were inflated before the counts were compared");
    }

    [Fact]
    public void A_folder_where_a_file_is_expected_is_called_a_folder()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(dir.Path));
        Assert.Equal($"{dir.Path}: is a folder; expected an IDX file", e.Message);
    }
}
