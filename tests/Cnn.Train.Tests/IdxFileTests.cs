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
    public void Embedded_digits_are_the_real_5000()
    {
        var files = MnistFiles.Embedded("digits-5k");
        var (trainX, trainY) = files.Read(train: true, 10);
        var (testX, _) = files.Read(train: false, 10);
        Assert.Equal(4000, trainX.Count);
        Assert.Equal(1000, testX.Count);
        Assert.Equal((28, 28), (trainX.Rows, trainX.Columns));
        // 500 of each digit in all; the train part has every class.
        Assert.Equal(10, trainY.Labels.Distinct().Count());
    }
}
