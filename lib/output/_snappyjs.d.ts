// Types for npm:snappyjs (the package ships none). Only the calls we use.
declare const SnappyJS: {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
};
export default SnappyJS;
