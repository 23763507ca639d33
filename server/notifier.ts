// Every outcome reaches the application twice, as in the brief: through the C++-named
// callback (setOnX) and as a Node event. Application code may throw; the core's sink
// methods must not, so every call out goes through notify(), which catches and reports
// to onError / 'error' listeners. An 'error' with nobody listening must not crash the
// process (EventEmitter would throw): it goes to the parent notifier (session → server),
// and at the top to process.emitWarning.

import { EventEmitter } from "node:events";
import { asError, ERR_CALLBACK } from "./errors.js";

// `any`: each callback has its own parameter list; notify() only forwards them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCallback = ((...args: any[]) => void) | null;

export class Notifier extends EventEmitter {
  protected onErrorCallback: ((error: Error) => void) | null = null;
  /** Where errors go when this object has no error handler of its own. */
  protected parentNotifier: Notifier | null = null;

  /** Calls `callback` and the `event` listeners with `args`; whatever they throw is reported, never rethrown. */
  protected notify(callback: AnyCallback, event: string, ...args: unknown[]): void {
    if (callback) {
      try {
        callback(...args);
      } catch (thrown) {
        this.reportError(asError(thrown, ERR_CALLBACK, "a callback threw"));
      }
    }
    if (this.listenerCount(event) > 0) {
      try {
        this.emit(event, ...args);
      } catch (thrown) {
        this.reportError(asError(thrown, ERR_CALLBACK, "an event listener threw"));
      }
    }
  }

  /**
   * Delivers an error to onError and 'error' listeners, else to the parent, else as a
   * process warning. A `soft` error (a socket failure, already reported as the reason a
   * connection ended) is dropped rather than warned about when nobody listens, so a
   * client retrying against a server that is down does not fill stderr.
   */
  reportError(error: Error, soft = false): void {
    let handled = false;
    if (this.onErrorCallback) {
      handled = true;
      try {
        this.onErrorCallback(error);
      } catch (thrown) {
        process.emitWarning(asError(thrown, ERR_CALLBACK, "an onError callback threw"));
      }
    }
    if (this.listenerCount("error") > 0) {
      handled = true;
      try {
        this.emit("error", error);
      } catch (thrown) {
        process.emitWarning(asError(thrown, ERR_CALLBACK, "an 'error' listener threw"));
      }
    }
    if (handled) return;
    if (this.parentNotifier) this.parentNotifier.reportError(error, soft);
    else if (!soft) process.emitWarning(error);
  }

  setOnError(callback: ((error: Error) => void) | null): void {
    this.onErrorCallback = callback;
  }
}
