/**
 * Maps positions in a bundled script back to the files it was bundled from, with the source
 * map esbuild writes (format v3), so that error stack frames name `imported.js:6` rather than
 * a line of the bundle, as k6 shows them. Hand-written (the VLQ decoding is a few lines): it
 * runs synchronously in the error path of every VU host, where loading a library on demand
 * isn't possible.
 *
 * @example
 * ```ts
 * const map = new SourceMapper(json, "/scripts");
 * map.original(12, 5); // { file: "/scripts/lib/util.js", line: 3, column: 9 }
 * ```
 * @module
 */
import { absolutePath } from "./paths.ts";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const digit = new Map([...BASE64].map((c, i) => [c, i]));

/** Decodes one line's segments: [generated column, source, original line, original column]. */
function decodeLine(
  text: string,
  state: { source: number; line: number; column: number },
): number[][] {
  const segments: number[][] = [];
  let column = 0;
  for (const seg of text.split(",")) {
    if (seg === "") continue;
    const values: number[] = [];
    let value = 0;
    let shift = 0;
    for (const c of seg) {
      const d = digit.get(c);
      if (d === undefined) throw new Error(`bad source map character ${c}`);
      value += (d & 31) << shift;
      if (d & 32) {
        shift += 5;
        continue;
      }
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
    column += values[0];
    if (values.length >= 4) {
      state.source += values[1];
      state.line += values[2];
      state.column += values[3];
      segments.push([column, state.source, state.line, state.column]);
    }
  }
  return segments;
}

/** A decoded source map. */
export class SourceMapper {
  readonly #lines: number[][][];
  readonly #sources: string[];

  /** `json` is the map; `dir` resolves its relative source paths. */
  constructor(json: string, dir: string) {
    const map = JSON.parse(json) as { sources: string[]; mappings: string; sourceRoot?: string };
    const root = map.sourceRoot ?? "";
    this.#sources = map.sources.map((s) => resolvePath(dir, root + s));
    const state = { source: 0, line: 0, column: 0 };
    this.#lines = map.mappings.split(";").map((l) => decodeLine(l, state));
  }

  /** The original file and position (1-based) of generated `line`:`column` (1-based). */
  original(
    line: number,
    column: number,
  ): { file: string; line: number; column: number } | undefined {
    const segments = this.#lines[line - 1];
    if (!segments || segments.length === 0) return undefined;
    let best = segments[0];
    for (const s of segments) {
      if (s[0] > column - 1) break;
      best = s;
    }
    const file = this.#sources[best[1]];
    if (file === undefined) return undefined;
    return { file, line: best[2] + 1, column: best[3] + 1 };
  }
}

function resolvePath(dir: string, path: string): string {
  // webpack names its sources `webpack:///./file.ts` (or `webpack://<name>/./file.ts`).
  const webpack = /^webpack:\/\/[^/]*\/(.*)$/.exec(path);
  return absolutePath(webpack ? webpack[1] : path, dir);
}
