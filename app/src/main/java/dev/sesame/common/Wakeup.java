package dev.sesame.common;

import java.time.Duration;

/**
 * How a background sender sleeps between polls: until the poll interval has passed, or until {@link #nudge()} says
 * there is work (a request just committed some). A nudge that comes while the sender is busy is kept, so the next
 * {@link #await} returns at once instead of sleeping through it.
 */
public final class Wakeup {
  private final Object lock = new Object();
  private boolean pending;

  public void nudge() {
    synchronized (lock) {
      pending = true;
      lock.notifyAll();
    }
  }

  /** Sleeps up to {@code max} unless nudged since the last call; false when the thread was interrupted. */
  public boolean await(Duration max) {
    synchronized (lock) {
      try {
        if (!pending) {
          lock.wait(max.toMillis());
        }
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } finally {
        pending = false;
      }
    }
  }
}
