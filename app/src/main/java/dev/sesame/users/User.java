package dev.sesame.users;

import java.time.Instant;
import java.util.UUID;

public record User(UUID id, String email, boolean emailVerified, Instant createdAt, Instant lastSignInAt) {}
