package dev.sesame.admin;

import dev.sesame.common.ApiException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body read as a stream that fails once it passes {@code max} bytes; whoever reads it may wrap that
 * failure (a parser does), so the endpoint asks {@link #exceeded()} and answers 413.
 */
final class LimitedInput extends FilterInputStream {
  private final long max;
  private long read;

  LimitedInput(InputStream in, long max) {
    super(in);
    this.max = max;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      count(1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int off, int len) throws IOException {
    int n = super.read(buffer, off, len);
    if (n > 0) {
      count(n);
    }
    return n;
  }

  boolean exceeded() {
    return read > max;
  }

  ApiException tooLarge() {
    return new ApiException(413, "payload_too_large", "The file is larger than " + (max >> 20) + " MiB.");
  }

  private void count(long n) throws IOException {
    read += n;
    if (read > max) {
      throw new IOException("more than " + max + " bytes");
    }
  }
}
