package dev.sesame.bench;

import java.util.Arrays;

/**
 * {@code java -jar bench/target/sesame-bench.jar load [options]} runs the load scenarios against a Sesame it starts;
 * {@code crypto [seconds]} measures token signing and verification per core; {@code scale} the scenarios and the
 * admin API on an empty database and again on a million people and ten million events; {@code peer keycloak} the
 * same load against Keycloak and Sesame side by side.
 */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    String command = args.length == 0 ? "load" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    switch (command) {
      case "load" -> LoadBench.main(rest);
      case "crypto" -> TokenCryptoBench.main(rest);
      case "scale" -> ScaleBench.main(rest);
      case "peer" -> PeerBench.main(rest);
      default -> {
        System.err.println("usage: java -jar sesame-bench.jar [load [--users N] [--seconds S] [--warmup S]"
            + " [--scenarios passkey,refresh,email,oidc,verify,register] | crypto [seconds]"
            + " | scale [--people N] [--sessions-per-person N] [--events N] [--scenarios …]"
            + " | peer keycloak [--version V] [--users N] [--seconds S] [--warmup S]]");
        System.exit(2);
      }
    }
  }
}
