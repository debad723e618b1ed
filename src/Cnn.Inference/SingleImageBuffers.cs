using Microsoft.ML.OnnxRuntime;

namespace Cnn.Inference;

/// <summary>One image's input and probabilities arrays, wrapped as OrtValues once. Owns native ONNX Runtime values: dispose it.</summary>
internal sealed class SingleImageBuffers : IDisposable
{
    public SingleImageBuffers(int inputLength, int classes, long[] inputShape)
    {
        Input = new float[inputLength];
        Output = new float[classes];
        InputValue = [OrtValue.CreateTensorValueFromMemory(Input, inputShape)];
        OutputValue = [OrtValue.CreateTensorValueFromMemory(Output, [1, classes])];
    }

    public float[] Input { get; }

    /// <summary>The probabilities.</summary>
    public float[] Output { get; }

    public OrtValue[] InputValue { get; }

    public OrtValue[] OutputValue { get; }

    public void Dispose()
    {
        InputValue[0].Dispose();
        OutputValue[0].Dispose();
    }
}
