package dev.sesame.db;

import java.lang.reflect.Type;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.argument.ArgumentFactory;
import org.jdbi.v3.core.config.ConfigRegistry;

/**
 * Jdbi's arguments for the types Sesame binds on every request, bound as Jdbi's own factories bind them (an
 * {@code Instant} as a {@code Timestamp}, a {@code String[]} as a {@code text[]}, a null with its SQL type), but
 * found at once. Jdbi copies its argument registry into every new handle with an empty cache of prepared factories,
 * so each statement of a request looked its argument types up through all twenty-odd registered factories again:
 * about 5 % of a passkey sign-in's server CPU in the profile. Registered last, this factory is asked first; other
 * types go on to Jdbi's.
 */
final class FastArguments implements ArgumentFactory.Preparable {
  private static final Map<Type, Function<Object, Argument>> BINDERS = Map.of(
      String.class, binder(Types.VARCHAR, (s, p, v) -> s.setString(p, (String) v)),
      UUID.class, binder(Types.OTHER, (s, p, v) -> s.setObject(p, v)),
      byte[].class, binder(Types.BINARY, (s, p, v) -> s.setBytes(p, (byte[]) v)),
      Instant.class, binder(Types.TIMESTAMP, (s, p, v) -> s.setTimestamp(p, Timestamp.from((Instant) v))),
      // text[] columns: amr, scope, transports
      String[].class, binder(Types.ARRAY, (s, p, v) -> s.setArray(p, s.getConnection().createArrayOf("text",
          (String[]) v))),
      Boolean.class, binder(Types.BOOLEAN, (s, p, v) -> s.setBoolean(p, (Boolean) v)),
      Long.class, binder(Types.BIGINT, (s, p, v) -> s.setLong(p, (Long) v)),
      Integer.class, binder(Types.INTEGER, (s, p, v) -> s.setInt(p, (Integer) v)));
  private static final Map<Type, Type> PRIMITIVES = Map.of(boolean.class, Boolean.class, long.class, Long.class,
      int.class, Integer.class);

  private interface Setter {
    void set(PreparedStatement statement, int position, Object value) throws SQLException;
  }

  /** Binds a value with {@code setter}, a null as {@code nullType}. */
  private static Function<Object, Argument> binder(int nullType, Setter setter) {
    return value -> (position, statement, context) -> {
      if (value == null) {
        statement.setNull(position, nullType);
      } else {
        setter.set(statement, position, value);
      }
    };
  }

  @Override
  public Optional<Function<Object, Argument>> prepare(Type type, ConfigRegistry config) {
    return Optional.ofNullable(BINDERS.get(PRIMITIVES.getOrDefault(type, type)));
  }
}
