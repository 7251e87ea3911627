/** The spate version and the k6 version whose behaviour it follows. */
export const version = "0.1.0";
/** k6 release whose behaviour spate matches (runner.md baseline). */
export const k6Compat = "2.2.0";
