import robotsParserModule from 'robots-parser';

// Its types declare an ES default export, but it is CommonJS: Node hands `module.exports` (the
// function itself) over as the default, which the types call `.default`.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;

/** The product token a robots.txt group names us by: `Marquee/0.1 (+https://…)` → `marquee`. */
export function userAgentToken(userAgent: string): string {
  return (userAgent.trim().split(/[/\s]/)[0] ?? '').toLowerCase();
}

/**
 * Whether robots.txt `text` (the one of `url`'s origin) lets `token` fetch `url`, by RFC 9309: the
 * groups naming the token apply, else those of `*`, else nothing is disallowed; of the matching
 * rules the longest pattern wins, and `Allow` wins a tie.
 */
export function robotsAllows(text: string, url: string, token: string): boolean {
  const robots = robotsParser(new URL('/robots.txt', url).href, text);
  // Undefined only for a URL of another origin, which the robots.txt URL above rules out.
  return robots.isAllowed(url, token) ?? true;
}
