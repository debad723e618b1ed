namespace Cnn.Inference;

/// <summary>Base of every error Cnn.Inference reports about its input or model; the message names the thing and what was expected.</summary>
public class InferenceException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the input.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public InferenceException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The bytes are not a decodable image (not an image, truncated, corrupt, or 0×0).</summary>
public sealed class InvalidImageException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the input.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public InvalidImageException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The image has more pixels than <see cref="InferenceOptions.MaxImagePixels"/>; it was not decoded.</summary>
public sealed class ImageTooLargeException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the input.</param>
    public ImageTooLargeException(string message)
        : base(message)
    {
    }
}

/// <summary>A digit model was given an image without ink: a blank or uniform page, or one too small to tell.</summary>
public sealed class NoInkException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the input.</param>
    public NoInkException(string message)
        : base(message)
    {
    }
}

/// <summary>A requested output (feature map or layer) is not in the model.</summary>
public sealed class UnknownOutputException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming what exists.</param>
    public UnknownOutputException(string message)
        : base(message)
    {
    }
}

/// <summary>Pixels were given in a count or shape the model does not take.</summary>
public sealed class InputShapeException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was given and what was expected.</param>
    public InputShapeException(string message)
        : base(message)
    {
    }
}

/// <summary>The file is not an ONNX model made by cnn, its model card is unreadable, or its features sibling does not belong to it.</summary>
public sealed class InvalidModelException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public InvalidModelException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// ONNX Runtime could not run the model's graph (a node failed: a reshape that does not fit, an operator the build
/// lacks). The message names the model and ONNX Runtime's first line, which names the node.
/// </summary>
public sealed class ModelRunException : InferenceException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The model and what failed.</param>
    /// <param name="inner">ONNX Runtime's exception.</param>
    public ModelRunException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
