#include "storage/sql/sql_identity_store.h"

#include <algorithm>
#include <cctype>

#include "storage/audit_store.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/dialect.h"

namespace zebros::storage::sql {

namespace {

constexpr char kUserColumns[] =
    "id, tenant_id, username, email, display_name, role, issuer, external_subject, active,"
    " COALESCE(password_hash, ''), created_at, updated_at, last_login_at, deactivated_at";
constexpr char kSessionColumns[] =
    "id, tenant_id, user_id, client_id, scope, created_at, revoked_at";

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

core::Error UserNotFound() {
  return core::MakeError(core::Code::kNotFound, "not_found", "No such user.");
}

core::Error SessionNotFound() {
  return core::MakeError(core::Code::kNotFound, "not_found", "No such session.");
}

// Reads a row of kUserColumns; the password hash (column 9) goes to `password_hash` if given.
core::Result<UserInfo> ReadUser(const Statement& stmt, std::string* password_hash = nullptr) {
  UserInfo user;
  user.id = std::string(stmt.Text(0));
  user.tenant_id = std::string(stmt.Text(1));
  user.username = std::string(stmt.Text(2));
  user.email = std::string(stmt.Text(3));
  user.display_name = std::string(stmt.Text(4));
  if (!model::ParseRole(stmt.Text(5), user.role)) {
    return core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                           "user with unknown role");
  }
  user.issuer = std::string(stmt.Text(6));
  user.external_subject = std::string(stmt.Text(7));
  user.active = stmt.Int(8) != 0;
  user.has_password = !stmt.Text(9).empty();
  if (password_hash != nullptr) *password_hash = std::string(stmt.Text(9));
  user.created_at = stmt.Int(10);
  user.updated_at = stmt.Int(11);
  if (!stmt.IsNull(12)) user.last_login_at = stmt.Int(12);
  if (!stmt.IsNull(13)) user.deactivated_at = stmt.Int(13);
  return user;
}

SessionInfo ReadSession(const Statement& stmt, int first = 0) {
  SessionInfo session;
  session.id = std::string(stmt.Text(first));
  session.tenant_id = std::string(stmt.Text(first + 1));
  session.user_id = std::string(stmt.Text(first + 2));
  session.client_id = std::string(stmt.Text(first + 3));
  session.scope = std::string(stmt.Text(first + 4));
  session.created_at = stmt.Int(first + 5);
  if (!stmt.IsNull(first + 6)) session.revoked_at = stmt.Int(first + 6);
  return session;
}

void BindOptionalText(Statement& stmt, int index, const std::string& value) {
  if (value.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.BindText(index, value);
  }
}

// Reads one user on `connection` (the writer's inside a write, so the caller sees its change).
core::Result<UserInfo> LoadUser(Session& connection, const std::string& tenant_id,
                                const std::string& user_id) {
  auto stmt = connection.Prepare(std::string("SELECT ") + kUserColumns +
                                 " FROM users WHERE tenant_id = ? AND id = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  stmt->BindText(2, user_id);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return UserNotFound();
  return ReadUser(*stmt);
}

core::Status Execute(Session& connection, const std::string& sql,
                     const std::function<void(Statement&)>& bind) {
  auto stmt = connection.Prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  bind(*stmt);
  auto done = stmt->Step();
  if (!done.ok()) return std::move(done).error();
  return core::OkStatus();
}

core::Status RevokeSessionsOfUser(Session& connection, const std::string& user_id,
                                  core::EpochMillis now) {
  return Execute(connection,
                 "UPDATE idp_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                 [&](Statement& stmt) {
                   stmt.BindInt(1, now);
                   stmt.BindText(2, user_id);
                 });
}

core::Status RevokeSessionOn(Session& connection, const std::string& session_id,
                             core::EpochMillis now) {
  return Execute(connection,
                 "UPDATE idp_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                 [&](Statement& stmt) {
                   stmt.BindInt(1, now);
                   stmt.BindText(2, session_id);
                 });
}

core::Error UserConflict(core::Error error) {
  if (error.code == core::Code::kConflict) {
    error.problem_code = "user_exists";
    error.public_message = "A user with this username or e-mail already exists in the tenant.";
  }
  return error;
}

core::Status InsertUser(Session& connection, const UserInfo& user,
                        const std::string& password_hash) {
  auto status =
      Execute(connection,
              "INSERT INTO users (id, tenant_id, username, email, display_name, role, issuer,"
              " external_subject, password_hash, active, created_at, updated_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
              [&](Statement& stmt) {
                stmt.BindText(1, user.id);
                stmt.BindText(2, user.tenant_id);
                stmt.BindText(3, user.username);
                BindOptionalText(stmt, 4, user.email);
                BindOptionalText(stmt, 5, user.display_name);
                stmt.BindText(6, model::RoleName(user.role));
                stmt.BindText(7, user.issuer);
                BindOptionalText(stmt, 8, user.external_subject);
                BindOptionalText(stmt, 9, password_hash);
                stmt.BindInt(10, user.created_at);
                stmt.BindInt(11, user.updated_at);
              });
  if (!status.ok()) return UserConflict(std::move(status).error());
  return status;
}

UserInfo FromNewUser(const NewUser& user, std::string id, core::EpochMillis now) {
  UserInfo info;
  info.id = std::move(id);
  info.tenant_id = user.tenant_id;
  info.username = user.username;
  info.email = Lower(user.email);
  info.display_name = user.display_name;
  info.role = user.role;
  info.issuer = user.issuer;
  info.external_subject = user.external_subject;
  info.has_password = !user.password_hash.empty();
  info.created_at = now;
  info.updated_at = now;
  return info;
}

}  // namespace

core::Result<UserInfo> SqlIdentityStore::CreateUser(const NewUser& user,
                                                    const model::Principal& actor) {
  if (user.username.empty()) {
    return core::MakeError(core::Code::kValidation, "invalid_user", "A user needs a username.");
  }
  UserInfo info = FromNewUser(user, ids_.Next("usr"), database_.clock().NowMillis());
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto inserted = InsertUser(connection, info, user.password_hash);
    if (!inserted.ok()) return inserted;
    auto entry = EntryFor(actor, audit_action::kUserCreate, "users", info.id,
                          boost::json::object{{"role", model::RoleName(info.role)}});
    entry.tenant_id = info.tenant_id;
    entry.at = info.created_at;
    return database_.audit_log().Append(connection, entry);
  });
  if (!status.ok()) return std::move(status).error();
  return info;
}

core::Result<UserInfo> SqlIdentityStore::FindUser(const std::string& tenant_id,
                                                  const std::string& user_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  return LoadUser(**reader, tenant_id, user_id);
}

core::Result<std::pair<UserInfo, std::string>> SqlIdentityStore::FindUserForLogin(
    const std::string& tenant_id, const std::string& username_or_email) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  // A username match wins over another user's e-mail that happens to equal it.
  const std::string same_username = CaseInsensitiveEquals((*reader)->dialect(), "username");
  auto stmt =
      (*reader)->Prepare(std::string("SELECT ") + kUserColumns +
                         " FROM users WHERE tenant_id = ? AND issuer = '' AND (" + same_username +
                         " OR email = ?) ORDER BY (" + same_username + ") DESC LIMIT 1");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  stmt->BindText(2, username_or_email);
  stmt->BindText(3, Lower(username_or_email));
  stmt->BindText(4, username_or_email);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return UserNotFound();
  std::string hash;
  auto user = ReadUser(*stmt, &hash);
  if (!user.ok()) return std::move(user).error();
  return std::make_pair(std::move(user).value(), std::move(hash));
}

core::Result<UserInfo> SqlIdentityStore::UpsertExternalUser(const NewUser& user) {
  if (user.issuer.empty() || user.external_subject.empty() || user.username.empty()) {
    return core::MakeError(core::Code::kValidation, "invalid_user",
                           "An external user needs an issuer, a subject and a username.");
  }
  const core::EpochMillis now = database_.clock().NowMillis();
  UserInfo result = FromNewUser(user, ids_.Next("usr"), now);
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto find = connection.Prepare(
        "SELECT id FROM users WHERE tenant_id = ? AND issuer = ? AND external_subject = ?");
    if (!find.ok()) return std::move(find).error();
    find->BindText(1, user.tenant_id);
    find->BindText(2, user.issuer);
    find->BindText(3, user.external_subject);
    auto row = find->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return InsertUser(connection, result, {});
    const std::string id(find->Text(0));
    auto update = Execute(connection,
                          "UPDATE users SET role = ?, email = ?, username = ?, updated_at = ?"
                          " WHERE tenant_id = ? AND id = ?",
                          [&](Statement& stmt) {
                            stmt.BindText(1, model::RoleName(user.role));
                            BindOptionalText(stmt, 2, result.email);
                            stmt.BindText(3, user.username);
                            stmt.BindInt(4, now);
                            stmt.BindText(5, user.tenant_id);
                            stmt.BindText(6, id);
                          });
    if (!update.ok()) return UserConflict(std::move(update).error());
    auto loaded = LoadUser(connection, user.tenant_id, id);
    if (!loaded.ok()) return std::move(loaded).error();
    result = std::move(loaded).value();
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  return result;
}

core::Result<UserPage> SqlIdentityStore::ListUsers(const std::string& tenant_id,
                                                   const std::string& cursor, int limit) {
  limit = std::clamp(limit, 1, 1000);
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  // Ids are time-ordered ULIDs, so the last id of a page is a stable keyset cursor.
  auto stmt = (*reader)->Prepare(std::string("SELECT ") + kUserColumns +
                                 " FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  stmt->BindText(2, cursor);
  stmt->BindInt(3, limit + 1);
  UserPage page;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto user = ReadUser(*stmt);
    if (!user.ok()) return std::move(user).error();
    page.users.push_back(std::move(user).value());
  }
  if (page.users.size() > static_cast<std::size_t>(limit)) {
    page.users.pop_back();
    page.next_cursor = page.users.back().id;
  }
  return page;
}

core::Result<UserInfo> SqlIdentityStore::UpdateUser(const std::string& tenant_id,
                                                    const std::string& user_id,
                                                    const UserChange& change,
                                                    const model::Principal& actor) {
  const core::EpochMillis now = database_.clock().NowMillis();
  UserInfo result;
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto current = LoadUser(connection, tenant_id, user_id);
    if (!current.ok()) return std::move(current).error();
    UserInfo user = std::move(current).value();
    const model::Role previous_role = user.role;
    if (change.role) user.role = *change.role;
    if (change.display_name) user.display_name = *change.display_name;
    const bool deactivating = change.active && !*change.active && user.active;
    if (change.active && *change.active != user.active) {
      user.active = *change.active;
      user.deactivated_at = user.active ? std::nullopt : std::optional<core::EpochMillis>(now);
    }
    user.updated_at = now;
    auto update = Execute(connection,
                          "UPDATE users SET role = ?, display_name = ?, active = ?,"
                          " deactivated_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                          [&](Statement& stmt) {
                            stmt.BindText(1, model::RoleName(user.role));
                            BindOptionalText(stmt, 2, user.display_name);
                            stmt.BindInt(3, user.active ? 1 : 0);
                            if (user.deactivated_at) {
                              stmt.BindInt(4, *user.deactivated_at);
                            } else {
                              stmt.BindNull(4);
                            }
                            stmt.BindInt(5, now);
                            stmt.BindText(6, tenant_id);
                            stmt.BindText(7, user_id);
                          });
    if (!update.ok()) return update;
    if (deactivating) {
      auto revoked = RevokeSessionsOfUser(connection, user_id, now);
      if (!revoked.ok()) return revoked;
    }
    if (user.role != previous_role) {
      auto entry = EntryFor(actor, audit_action::kUserRoleChange, "users", user_id,
                            boost::json::object{{"from", model::RoleName(previous_role)},
                                                {"to", model::RoleName(user.role)}});
      entry.tenant_id = tenant_id;
      entry.at = now;
      auto audited = database_.audit_log().Append(connection, entry);
      if (!audited.ok()) return audited;
    }
    if (deactivating) {
      auto entry = EntryFor(actor, audit_action::kUserDeactivate, "users", user_id);
      entry.tenant_id = tenant_id;
      entry.at = now;
      auto audited = database_.audit_log().Append(connection, entry);
      if (!audited.ok()) return audited;
    }
    result = std::move(user);
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  return result;
}

core::Status SqlIdentityStore::SetPassword(const std::string& tenant_id, const std::string& user_id,
                                           const std::string& password_hash) {
  const core::EpochMillis now = database_.clock().NowMillis();
  return database_.Run([&](Session& connection) -> core::Status {
    auto update = Execute(connection,
                          "UPDATE users SET password_hash = ?, updated_at = ?"
                          " WHERE tenant_id = ? AND id = ? AND issuer = ''",
                          [&](Statement& stmt) {
                            BindOptionalText(stmt, 1, password_hash);
                            stmt.BindInt(2, now);
                            stmt.BindText(3, tenant_id);
                            stmt.BindText(4, user_id);
                          });
    if (!update.ok()) return update;
    if (connection.Changes() == 0) return UserNotFound();
    return RevokeSessionsOfUser(connection, user_id, now);
  });
}

core::Status SqlIdentityStore::RecordLogin(const std::string& tenant_id, const std::string& user_id,
                                           core::EpochMillis at,
                                           const std::optional<PasswordRehash>& rehash) {
  // Without a rehash both hashes are NULL: `password_hash = NULL` is never true, the hash stays.
  return database_.Run([&](Session& connection) {
    return Execute(connection,
                   "UPDATE users SET last_login_at = ?, password_hash = CASE WHEN password_hash ="
                   " ? THEN ? ELSE password_hash END WHERE tenant_id = ? AND id = ?",
                   [&](Statement& stmt) {
                     stmt.BindInt(1, at);
                     BindOptionalText(stmt, 2, rehash ? rehash->from : std::string());
                     BindOptionalText(stmt, 3, rehash ? rehash->to : std::string());
                     stmt.BindText(4, tenant_id);
                     stmt.BindText(5, user_id);
                   });
  });
}

core::Result<SessionInfo> SqlIdentityStore::CreateSession(const std::string& tenant_id,
                                                          const std::string& user_id,
                                                          const std::string& client_id,
                                                          const std::string& scope) {
  SessionInfo session{ids_.Next("ses"), tenant_id, user_id,
                      client_id,        scope,     database_.clock().NowMillis(),
                      std::nullopt};
  auto status = database_.Run([&](Session& connection) {
    return Execute(connection,
                   "INSERT INTO idp_sessions (id, tenant_id, user_id, client_id, scope,"
                   " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   [&](Statement& stmt) {
                     stmt.BindText(1, session.id);
                     stmt.BindText(2, tenant_id);
                     stmt.BindText(3, user_id);
                     stmt.BindText(4, client_id);
                     stmt.BindText(5, scope);
                     stmt.BindInt(6, session.created_at);
                   });
  });
  if (!status.ok()) return std::move(status).error();
  return session;
}

core::Result<SessionInfo> SqlIdentityStore::FindSession(const std::string& session_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(std::string("SELECT ") + kSessionColumns +
                                 " FROM idp_sessions WHERE id = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, session_id);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return SessionNotFound();
  return ReadSession(*stmt);
}

core::Status SqlIdentityStore::RevokeSession(const std::string& session_id) {
  const core::EpochMillis now = database_.clock().NowMillis();
  return database_.Run(
      [&](Session& connection) { return RevokeSessionOn(connection, session_id, now); });
}

core::Status SqlIdentityStore::StoreAuthCode(const AuthCode& code) {
  return database_.Run([&](Session& connection) {
    return Execute(connection,
                   "INSERT INTO idp_auth_codes (code_hash, session_id, client_id, redirect_uri,"
                   " code_challenge, nonce, scope, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [&](Statement& stmt) {
                     stmt.BindText(1, code.code_hash);
                     stmt.BindText(2, code.session_id);
                     stmt.BindText(3, code.client_id);
                     stmt.BindText(4, code.redirect_uri);
                     stmt.BindText(5, code.code_challenge);
                     BindOptionalText(stmt, 6, code.nonce);
                     BindOptionalText(stmt, 7, code.scope);
                     stmt.BindInt(8, code.expires_at);
                   });
  });
}

core::Result<AuthCode> SqlIdentityStore::ConsumeAuthCode(const std::string& code_hash,
                                                         core::EpochMillis now) {
  AuthCode code;
  bool usable = false;
  // The work must succeed for the revocation after a replay to commit, so refusals are
  // reported through `usable` rather than as an error of the work.
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(
        "SELECT c.session_id, c.client_id, c.redirect_uri, c.code_challenge,"
        " COALESCE(c.nonce, ''), COALESCE(c.scope, ''), c.expires_at, c.used_at, s.revoked_at"
        " FROM idp_auth_codes c LEFT JOIN idp_sessions s ON s.id = c.session_id"
        " WHERE c.code_hash = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, code_hash);
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return core::OkStatus();
    code.code_hash = code_hash;
    code.session_id = std::string(stmt->Text(0));
    code.client_id = std::string(stmt->Text(1));
    code.redirect_uri = std::string(stmt->Text(2));
    code.code_challenge = std::string(stmt->Text(3));
    code.nonce = std::string(stmt->Text(4));
    code.scope = std::string(stmt->Text(5));
    code.expires_at = stmt->Int(6);
    const bool used = !stmt->IsNull(7);
    const bool revoked = !stmt->IsNull(8);
    if (used) return RevokeSessionOn(connection, code.session_id, now);
    if (revoked || code.expires_at <= now) return core::OkStatus();
    usable = true;
    return Execute(connection, "UPDATE idp_auth_codes SET used_at = ? WHERE code_hash = ?",
                   [&](Statement& update) {
                     update.BindInt(1, now);
                     update.BindText(2, code_hash);
                   });
  });
  if (!status.ok()) return std::move(status).error();
  if (!usable) {
    return core::MakeError(core::Code::kNotFound, "invalid_code",
                           "The authorization code is unknown, expired or used.");
  }
  return code;
}

core::Status SqlIdentityStore::StoreRefreshToken(const std::string& token_hash,
                                                 const std::string& session_id,
                                                 core::EpochMillis expires_at) {
  const core::EpochMillis now = database_.clock().NowMillis();
  return database_.Run([&](Session& connection) {
    return Execute(connection,
                   "INSERT INTO idp_refresh_tokens (token_hash, session_id, issued_at, expires_at)"
                   " VALUES (?, ?, ?, ?)",
                   [&](Statement& stmt) {
                     stmt.BindText(1, token_hash);
                     stmt.BindText(2, session_id);
                     stmt.BindInt(3, now);
                     stmt.BindInt(4, expires_at);
                   });
  });
}

core::Result<SessionInfo> SqlIdentityStore::RotateRefreshToken(const std::string& token_hash,
                                                               const std::string& next_hash,
                                                               core::EpochMillis next_expires_at,
                                                               core::EpochMillis now) {
  enum class Outcome { kInvalid, kReused, kRotated };
  Outcome outcome = Outcome::kInvalid;
  SessionInfo session;
  // As in ConsumeAuthCode: a reuse must commit the revocation, so it is not a failing work.
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(std::string("SELECT r.expires_at, r.used_at, ") +
                                   "s.id, s.tenant_id, s.user_id, s.client_id, s.scope,"
                                   " s.created_at, s.revoked_at FROM idp_refresh_tokens r"
                                   " JOIN idp_sessions s ON s.id = r.session_id"
                                   " WHERE r.token_hash = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, token_hash);
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return core::OkStatus();
    const core::EpochMillis expires_at = stmt->Int(0);
    const bool used = !stmt->IsNull(1);
    session = ReadSession(*stmt, 2);
    if (session.revoked_at) return core::OkStatus();
    if (used) {
      outcome = Outcome::kReused;
      return RevokeSessionOn(connection, session.id, now);
    }
    if (expires_at <= now) return core::OkStatus();
    auto marked =
        Execute(connection, "UPDATE idp_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                [&](Statement& update) {
                  update.BindInt(1, now);
                  update.BindText(2, token_hash);
                });
    if (!marked.ok()) return marked;
    auto inserted = Execute(connection,
                            "INSERT INTO idp_refresh_tokens (token_hash, session_id, issued_at,"
                            " expires_at) VALUES (?, ?, ?, ?)",
                            [&](Statement& insert) {
                              insert.BindText(1, next_hash);
                              insert.BindText(2, session.id);
                              insert.BindInt(3, now);
                              insert.BindInt(4, next_expires_at);
                            });
    if (!inserted.ok()) return inserted;
    outcome = Outcome::kRotated;
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  switch (outcome) {
    case Outcome::kRotated:
      return session;
    case Outcome::kReused:
      return core::MakeError(core::Code::kUnauthenticated, "refresh_token_reused",
                             "The refresh token was used before; the session is revoked.");
    case Outcome::kInvalid:
      break;
  }
  return core::MakeError(core::Code::kNotFound, "invalid_refresh_token",
                         "The refresh token is unknown, expired or revoked.");
}

core::Result<SessionInfo> SqlIdentityStore::FindSessionByRefreshToken(
    const std::string& token_hash) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(
      "SELECT s.id, s.tenant_id, s.user_id, s.client_id, s.scope, s.created_at, s.revoked_at"
      " FROM idp_refresh_tokens r JOIN idp_sessions s ON s.id = r.session_id"
      " WHERE r.token_hash = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, token_hash);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return SessionNotFound();
  return ReadSession(*stmt);
}

core::Status SqlIdentityStore::PurgeExpired(core::EpochMillis now,
                                            core::EpochMillis sessions_created_before) {
  return database_.Run([&](Session& connection) -> core::Status {
    const auto bind_now = [now](Statement& stmt) { stmt.BindInt(1, now); };
    const auto bind_cutoff = [sessions_created_before](Statement& stmt) {
      stmt.BindInt(1, sessions_created_before);
    };
    auto status = Execute(connection, "DELETE FROM idp_auth_codes WHERE expires_at <= ?", bind_now);
    if (!status.ok()) return status;
    status = Execute(connection, "DELETE FROM idp_refresh_tokens WHERE expires_at <= ?", bind_now);
    if (!status.ok()) return status;
    status = Execute(connection,
                     "DELETE FROM idp_refresh_tokens WHERE session_id IN"
                     " (SELECT id FROM idp_sessions WHERE created_at < ?)",
                     bind_cutoff);
    if (!status.ok()) return status;
    return Execute(connection, "DELETE FROM idp_sessions WHERE created_at < ?", bind_cutoff);
  });
}

core::Result<std::vector<StoredSigningKey>> SqlIdentityStore::ListSigningKeys() {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt =
      (*reader)->Prepare("SELECT kid, pem, created_at FROM idp_signing_keys ORDER BY kid DESC");
  if (!stmt.ok()) return std::move(stmt).error();
  std::vector<StoredSigningKey> keys;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    keys.push_back({std::string(stmt->Text(0)), std::string(stmt->Text(1)), stmt->Int(2)});
  }
  return keys;
}

core::Status SqlIdentityStore::AddSigningKey(const StoredSigningKey& key) {
  return database_.Run([&key](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(
        "INSERT INTO idp_signing_keys (kid, pem, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (kid) DO NOTHING");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, key.kid);
    stmt->BindText(2, key.pem);
    stmt->BindInt(3, key.created_at);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    return core::OkStatus();
  });
}

core::Status SqlIdentityStore::RemoveSigningKeys(const std::vector<std::string>& kids) {
  if (kids.empty()) return core::OkStatus();
  return database_.Run([&kids](Session& connection) -> core::Status {
    for (const auto& kid : kids) {
      auto stmt = connection.Prepare("DELETE FROM idp_signing_keys WHERE kid = ?");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->BindText(1, kid);
      auto done = stmt->Step();
      if (!done.ok()) return std::move(done).error();
    }
    return core::OkStatus();
  });
}

core::Result<std::string> SqlIdentityStore::SigningKeysVersion() {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare("SELECT COUNT(*), COALESCE(MAX(kid), '') FROM idp_signing_keys");
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return std::to_string(stmt->Int(0)) + ":" + std::string(stmt->Text(1));
}

}  // namespace zebros::storage::sql
