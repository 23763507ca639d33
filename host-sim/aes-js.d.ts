// Minimal types for the parts of aes-js (v3, no bundled types) the simulator uses.
declare module "aes-js" {
  export class AES {
    constructor(key: Uint8Array | number[]);
    encrypt(block: Uint8Array | number[]): Uint8Array;
    decrypt(block: Uint8Array | number[]): Uint8Array;
  }
  const aesjs: { AES: typeof AES };
  export default aesjs;
}
