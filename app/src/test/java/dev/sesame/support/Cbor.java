package dev.sesame.support;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A minimal CBOR encoder (RFC 8949) for the test authenticator: integers, byte and text strings, maps. Written
 * independently of the server's parser on purpose, so a shared bug can't make both sides agree.
 */
public final class Cbor {
  private Cbor() {}

  public static byte[] encode(Object value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    write(out, value);
    return out.toByteArray();
  }

  private static void write(ByteArrayOutputStream out, Object value) {
    if (value instanceof Integer i) {
      write(out, (long) i);
    } else if (value instanceof Long n) {
      if (n >= 0) {
        head(out, 0, n);
      } else {
        head(out, 1, -1 - n);
      }
    } else if (value instanceof byte[] bytes) {
      head(out, 2, bytes.length);
      out.writeBytes(bytes);
    } else if (value instanceof String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      head(out, 3, bytes.length);
      out.writeBytes(bytes);
    } else if (value instanceof Map<?, ?> map) {
      head(out, 5, map.size());
      for (Map.Entry<?, ?> e : map.entrySet()) {
        write(out, e.getKey());
        write(out, e.getValue());
      }
    } else if (value instanceof Boolean b) {
      out.write(b ? 0xf5 : 0xf4);
    } else {
      throw new IllegalArgumentException("cannot encode " + value);
    }
  }

  private static void head(ByteArrayOutputStream out, int major, long length) {
    int type = major << 5;
    if (length < 24) {
      out.write(type | (int) length);
    } else if (length < 0x100) {
      out.write(type | 24);
      out.write((int) length);
    } else if (length < 0x10000) {
      out.write(type | 25);
      out.write((int) (length >> 8));
      out.write((int) length);
    } else {
      out.write(type | 26);
      for (int shift = 24; shift >= 0; shift -= 8) {
        out.write((int) (length >> shift));
      }
    }
  }
}
