/**
 * Tag values from scripts: strings, numbers and booleans become strings; anything else is the
 * error k6 gives (runner.md §5.4).
 * @module
 */

/** Returns `base` extended with the script-given `extra` tags (validated). */
export function mergeScriptTags(
  base: Readonly<Record<string, string>>,
  extra: unknown,
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  if (extra === undefined || extra === null) return out;
  if (typeof extra !== "object") throw new TypeError(`invalid value for metric tags: ${extra}`);
  for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
    out[k] = tagValue(k, v);
  }
  return out;
}

/** Converts one tag value, throwing k6's error for unsupported types. */
export function tagValue(name: string, value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
      return String(value);
  }
  throw new TypeError(
    `invalid value for metric tag "${name}": only String, Boolean and Number types are accepted`,
  );
}
