namespace Cnn.Inference;

/// <summary>Base of every error Cnn.Inference reports about its input or model; the message names the thing and what was expected.</summary>
public class InferenceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The bytes are not a decodable image (not an image, truncated, corrupt, or 0×0).</summary>
public sealed class InvalidImageException(string message, Exception? inner = null) : InferenceException(message, inner);

/// <summary>The image has more pixels than <see cref="InferenceOptions.MaxImagePixels"/>; it was not decoded.</summary>
public sealed class ImageTooLargeException(string message) : InferenceException(message);

/// <summary>A digit model was given an image without ink: a blank or uniform page.</summary>
public sealed class NoInkException(string message) : InferenceException(message);

/// <summary>A requested output is not in the model.</summary>
public sealed class UnknownOutputException(string message) : InferenceException(message);

/// <summary>Pixels were given in a count or shape the model does not take.</summary>
public sealed class InputShapeException(string message) : InferenceException(message);

/// <summary>The file is not an ONNX model made by cnn (unreadable, or metadata missing).</summary>
public sealed class InvalidModelException(string message, Exception? inner = null) : InferenceException(message, inner);
