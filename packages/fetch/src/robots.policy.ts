interface Rule {
  allow: boolean;
  pattern: string;
}

interface Group {
  agents: string[];
  rules: Rule[];
}

/** The product token a robots.txt group names us by: `Marquee/0.1 (+https://…)` → `marquee`. */
export function userAgentToken(userAgent: string): string {
  return (userAgent.trim().split(/[/\s]/)[0] ?? '').toLowerCase();
}

/** Groups of a robots.txt (RFC 9309): consecutive `user-agent` lines share the rules after them. */
function parseGroups(text: string): Group[] {
  const groups: Group[] = [];
  let current: Group | undefined;
  let inRules = false;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const field = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'user-agent') {
      if (!current || inRules) {
        current = { agents: [], rules: [] };
        groups.push(current);
        inRules = false;
      }
      current.agents.push(value.toLowerCase());
    } else if ((field === 'allow' || field === 'disallow') && current) {
      inRules = true;
      // An empty Disallow allows everything: it matches no path, so it is no rule at all.
      if (value !== '') current.rules.push({ allow: field === 'allow', pattern: value });
    }
  }
  return groups;
}

function matches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith('$');
  const body = anchored ? pattern.slice(0, -1) : pattern;
  const source = body
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}${anchored ? '$' : ''}`).test(path);
}

/**
 * Whether robots.txt `text` lets `token` fetch `path` (path and query). The groups naming the
 * token apply, else those of `*`, else nothing is disallowed; of the matching rules the longest
 * pattern wins, and `Allow` wins a tie (RFC 9309 §2.2.2).
 */
export function robotsAllows(text: string, token: string, path: string): boolean {
  const groups = parseGroups(text);
  const own = groups.filter((group) => group.agents.includes(token));
  const applicable = own.length > 0 ? own : groups.filter((group) => group.agents.includes('*'));
  let best: Rule | undefined;
  for (const rule of applicable.flatMap((group) => group.rules)) {
    if (!matches(rule.pattern, path)) continue;
    if (
      !best ||
      rule.pattern.length > best.pattern.length ||
      (rule.pattern.length === best.pattern.length && rule.allow)
    ) {
      best = rule;
    }
  }
  return best?.allow ?? true;
}
