package dev.sesame;

import dev.sesame.config.Config;
import java.io.PrintStream;
import java.util.List;

/** Lets tests in other packages run the administration commands in-process. */
public final class CliAccess {
  private CliAccess() {}

  public static int run(List<String> args, Config config, PrintStream out, PrintStream err) {
    return Cli.run(args, config, out, err);
  }
}
