/**
 * A deployment mistake found at start-up (a variable missing or malformed, a development option
 * in production). Thrown at cold start so the function or process fails loudly instead of
 * answering requests half-configured. The message names the variable; it never quotes a secret.
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}
