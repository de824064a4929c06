/**
 * A peer's HTTP response body as JSON when it parses, else as the raw text (an HTML error page
 * from a proxy, say), so error classification and messages can still quote it.
 */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
