using Cnn.Train.Training;

namespace Cnn.Train.Tests;

public sealed class EvaluationTests
{
    [Fact]
    public void The_confusion_matrix_counts_each_true_class_against_its_prediction()
    {
        var evaluation = new Evaluation(0.5, 0.6, Predicted: [0, 1, 1, 2, 2], Confidence: new float[5], Logits: []);
        var counts = evaluation.Confusion([0, 1, 2, 2, 1], 3);
        Assert.Equal(new[,] { { 1, 0, 0 }, { 0, 1, 1 }, { 0, 1, 1 } }, counts);
    }
}
