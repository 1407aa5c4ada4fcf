namespace IoiBench;

/// <summary>
/// Raised for bad input a user can fix: a malformed file, a missing field, an argument out of range.
/// The message names the file (and the field or tensor) so the user knows where to look;
/// the command line prints it as one line and exits with code 2.
/// </summary>
public sealed class InvalidInputException(string message, Exception? inner = null) : Exception(message, inner);
