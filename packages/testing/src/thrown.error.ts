/** The error of class `type` that `call` throws; any other error is rethrown, none is a failure. */
export function thrownBy<E extends Error>(
  call: () => unknown,
  type: abstract new (...args: never[]) => E,
): E {
  try {
    call();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`${type.name} expected; nothing was thrown`);
}
