/** A promise opened from outside: `opened` resolves once `open()` is called (a test holding work back, or waiting for a step). */
export function latch(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}
