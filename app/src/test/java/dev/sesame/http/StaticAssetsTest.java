package dev.sesame.http;

import static dev.sesame.support.Problems.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.sesame.support.Http;
import dev.sesame.support.SesameServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** /assets serves every file of web/ from memory, publicly, with validators; nothing else. */
class StaticAssetsTest {
  static final Path WEB = Path.of("..", "web");
  @RegisterExtension
  static final SesameServer sesame = SesameServer.withDefaults();

  @Test
  void every_file_in_web_is_listed() throws IOException {
    try (Stream<Path> files = Files.list(WEB)) {
      assertEquals(files.map(p -> p.getFileName().toString()).collect(Collectors.toSet()),
          Set.copyOf(StaticAssets.FILES.keySet()));
    }
  }

  @Test
  void serves_each_file_as_it_is_with_public_caching_and_cors() throws IOException {
    for (String name : StaticAssets.FILES.keySet()) {
      Http.Response r = sesame.http().get("/assets/" + name);
      assertEquals(200, r.status(), name);
      assertEquals(Files.readString(WEB.resolve(name)), r.body(), name);
      assertEquals(StaticAssets.FILES.get(name), r.header("Content-Type"), name);
      assertEquals("public, max-age=300", r.header("Cache-Control"));
      assertEquals("*", r.header("Access-Control-Allow-Origin"));
      assertEquals("cross-origin", r.header("Cross-Origin-Resource-Policy"));
      String etag = r.header("ETag");
      assertNotNull(etag, name);
      assertEquals(304, sesame.http().get("/assets/" + name, "If-None-Match", etag).status(), name);
      assertEquals(200, sesame.http().head("/assets/" + name).status(), name);
    }
  }

  @Test
  void unknown_files_are_404_problems() {
    assertProblem(sesame.http().get("/assets/nope.js"), 404, "not_found");
    assertProblem(sesame.http().get("/assets/"), 404, "not_found");
  }
}
