// Messages between the main thread and the TCP client thread (net-worker.ts).

/** Slots of the shared Int32Array a connect request carries. */
export const CONNECT_STATE = 0;
export const CONNECT_PENDING = 0;
export const CONNECT_OK = 1;
export const CONNECT_REFUSED = 2;
export const CONNECT_NO_HOST = 3;

export type ToWorker =
  | { op: "connect"; id: number; host: string; port: number; state: SharedArrayBuffer }
  | { op: "write"; id: number; data: Uint8Array }
  | { op: "end"; id: number }
  | { op: "destroy"; id: number };

export type FromWorker =
  | { ev: "data"; id: number; data: Uint8Array }
  | { ev: "end"; id: number }
  | { ev: "error"; id: number; code: string; message: string }
  | { ev: "close"; id: number; hadError: boolean }
  | { ev: "written"; id: number };
