// Teams and record scopes of SqlDirectoryStore: what decides which records a caller sees.
#include <algorithm>

#include "storage/sql/sql_directory_store.h"

namespace zebros::storage::sql {
namespace {

core::Error TeamNotFound() {
  return core::MakeError(core::Code::kNotFound, "not_found", "No team has this id.");
}

// A unique-index violation on teams(tenant_id, name) says so in the API's words.
core::Error NameTaken(core::Error error) {
  if (error.code == core::Code::kConflict) {
    error.problem_code = "team_exists";
    error.public_message = "Another team has this name.";
  }
  return error;
}

core::Result<std::vector<std::string>> ReadStrings(Statement& stmt) {
  std::vector<std::string> values;
  for (;;) {
    auto row = stmt.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    values.emplace_back(stmt.Text(0));
  }
  return values;
}

core::Status LoadMembers(Session& connection, TeamInfo& team) {
  auto stmt = connection.Prepare(
      "SELECT user_id FROM team_members WHERE team_id = ? AND tenant_id = ? ORDER BY user_id");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, team.id);
  stmt->BindText(2, team.tenant_id);
  auto members = ReadStrings(*stmt);
  if (!members.ok()) return std::move(members).error();
  team.member_ids = std::move(members).value();
  return core::OkStatus();
}

core::Result<std::vector<TeamInfo>> ReadTeams(Session& connection, const std::string& tenant_id,
                                              const std::string* team_id) {
  auto stmt = connection.Prepare(
      std::string("SELECT id, tenant_id, name, created_at FROM teams WHERE tenant_id = ?") +
      (team_id ? " AND id = ?" : "") + " ORDER BY name");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  if (team_id) stmt->BindText(2, *team_id);
  std::vector<TeamInfo> teams;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    teams.push_back({std::string(stmt->Text(0)),
                     std::string(stmt->Text(1)),
                     std::string(stmt->Text(2)),
                     stmt->Int(3),
                     {}});
  }
  for (auto& team : teams) {
    auto status = LoadMembers(connection, team);
    if (!status.ok()) return std::move(status).error();
  }
  return teams;
}

core::Status RenameTeam(Session& connection, const std::string& tenant_id,
                        const std::string& team_id, const std::string& name) {
  auto stmt = connection.Prepare("UPDATE teams SET name = ? WHERE id = ? AND tenant_id = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, name);
  stmt->BindText(2, team_id);
  stmt->BindText(3, tenant_id);
  auto done = stmt->Step();
  if (!done.ok()) return NameTaken(std::move(done).error());
  return connection.Changes() == 0 ? core::Status(TeamNotFound()) : core::OkStatus();
}

core::Status ReplaceMembers(Session& connection, const std::string& tenant_id,
                            const std::string& team_id, const std::vector<std::string>& members) {
  std::vector<core::FieldError> unknown;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto stmt = connection.Prepare("SELECT 1 FROM users WHERE id = ? AND tenant_id = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, members[i]);
    stmt->BindText(2, tenant_id);
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) {
      unknown.push_back({"member_ids[" + std::to_string(i) + "]", "unknown_user",
                         "No user of this tenant has this id.", static_cast<int>(i)});
    }
  }
  if (!unknown.empty()) {
    core::Error error = core::MakeError(core::Code::kValidation, "validation_failed",
                                        "Some members are not users of this tenant.");
    error.field_errors = std::move(unknown);
    return error;
  }
  auto clear = connection.Prepare("DELETE FROM team_members WHERE team_id = ? AND tenant_id = ?");
  if (!clear.ok()) return std::move(clear).error();
  clear->BindText(1, team_id);
  clear->BindText(2, tenant_id);
  auto cleared = clear->Step();
  if (!cleared.ok()) return std::move(cleared).error();
  for (const auto& user_id : members) {
    auto stmt = connection.Prepare(
        "INSERT INTO team_members (tenant_id, team_id, user_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, tenant_id);
    stmt->BindText(2, team_id);
    stmt->BindText(3, user_id);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
  }
  return core::OkStatus();
}

}  // namespace

core::Result<TeamInfo> SqlDirectoryStore::CreateTeam(const std::string& tenant_id,
                                                     const std::string& name) {
  TeamInfo team{ids_.Next("team"), tenant_id, name, database_.clock().NowMillis(), {}};
  auto status = database_.Run([&team](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(
        "INSERT INTO teams (id, tenant_id, name, created_at) VALUES (?, ?, ?, ?)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, team.id);
    stmt->BindText(2, team.tenant_id);
    stmt->BindText(3, team.name);
    stmt->BindInt(4, team.created_at);
    auto done = stmt->Step();
    if (!done.ok()) return NameTaken(std::move(done).error());
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  return team;
}

core::Result<std::vector<TeamInfo>> SqlDirectoryStore::ListTeams(const std::string& tenant_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  return ReadTeams(**reader, tenant_id, nullptr);
}

core::Result<TeamInfo> SqlDirectoryStore::FindTeam(const std::string& tenant_id,
                                                   const std::string& team_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto teams = ReadTeams(**reader, tenant_id, &team_id);
  if (!teams.ok()) return std::move(teams).error();
  if (teams->empty()) return TeamNotFound();
  return std::move(teams->front());
}

core::Result<TeamInfo> SqlDirectoryStore::UpdateTeam(
    const std::string& tenant_id, const std::string& team_id,
    const std::optional<std::string>& name,
    const std::optional<std::vector<std::string>>& members) {
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto teams = ReadTeams(connection, tenant_id, &team_id);
    if (!teams.ok()) return std::move(teams).error();
    if (teams->empty()) return TeamNotFound();
    if (name) {
      auto renamed = RenameTeam(connection, tenant_id, team_id, *name);
      if (!renamed.ok()) return renamed;
    }
    if (members) return ReplaceMembers(connection, tenant_id, team_id, *members);
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  return FindTeam(tenant_id, team_id);
}

core::Status SqlDirectoryStore::DeleteTeam(const std::string& tenant_id,
                                           const std::string& team_id) {
  return database_.Run([&](Session& connection) -> core::Status {
    auto members =
        connection.Prepare("DELETE FROM team_members WHERE team_id = ? AND tenant_id = ?");
    if (!members.ok()) return std::move(members).error();
    members->BindText(1, team_id);
    members->BindText(2, tenant_id);
    auto cleared = members->Step();
    if (!cleared.ok()) return std::move(cleared).error();
    auto stmt = connection.Prepare("DELETE FROM teams WHERE id = ? AND tenant_id = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, team_id);
    stmt->BindText(2, tenant_id);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    return connection.Changes() == 0 ? core::Status(TeamNotFound()) : core::OkStatus();
  });
}

core::Result<std::vector<std::string>> SqlDirectoryStore::TeamMates(const std::string& tenant_id,
                                                                    const std::string& user_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(
      "SELECT DISTINCT b.user_id FROM team_members a JOIN team_members b ON b.team_id = a.team_id"
      " WHERE a.user_id = ? AND a.tenant_id = ? AND b.tenant_id = ? ORDER BY b.user_id");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, user_id);
  stmt->BindText(2, tenant_id);
  stmt->BindText(3, tenant_id);
  auto mates = ReadStrings(*stmt);
  if (!mates.ok()) return std::move(mates).error();
  if (std::find(mates->begin(), mates->end(), user_id) == mates->end()) {
    mates->push_back(user_id);
  }
  return mates;
}

core::Result<std::vector<ScopeSetting>> SqlDirectoryStore::ListScopes(
    const std::string& tenant_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(
      "SELECT role, object, scope FROM record_scopes WHERE tenant_id = ? ORDER BY role, object");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  std::vector<ScopeSetting> settings;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    ScopeSetting setting;
    setting.object = std::string(stmt->Text(1));
    if (!model::ParseRole(stmt->Text(0), setting.role) ||
        !model::ParseRecordScope(stmt->Text(2), setting.scope)) {
      continue;  // written by a newer version: ignore rather than guess
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

core::Status SqlDirectoryStore::SetScope(const std::string& tenant_id,
                                         const ScopeSetting& setting) {
  return database_.Run([&](Session& connection) -> core::Status {
    const bool all = setting.scope == model::RecordScope::kAll;
    auto stmt = connection.Prepare(
        all ? "DELETE FROM record_scopes WHERE tenant_id = ? AND role = ? AND object = ?"
            : "INSERT INTO record_scopes (tenant_id, role, object, scope) VALUES (?, ?, ?, ?)"
              " ON CONFLICT (tenant_id, role, object) DO UPDATE SET scope = excluded.scope");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, tenant_id);
    stmt->BindText(2, model::RoleName(setting.role));
    stmt->BindText(3, setting.object);
    if (!all) stmt->BindText(4, model::RecordScopeName(setting.scope));
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    return core::OkStatus();
  });
}

}  // namespace zebros::storage::sql
