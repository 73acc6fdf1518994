#include "auth/access_resolver.h"

namespace zebros::auth {

core::Status AccessResolver::Resolve(model::Principal& principal) {
  auto settings = Scopes(principal.tenant_id);
  if (!settings.ok()) return std::move(settings).error();
  principal.scopes.clear();
  bool team = false;
  for (const auto& setting : *settings) {
    if (setting.role != principal.role) continue;
    principal.scopes.push_back({setting.object, setting.scope});
    team = team || setting.scope == model::RecordScope::kTeam;
  }
  principal.team_user_ids.clear();
  if (team && !principal.user_id.empty()) {
    auto mates = Mates(principal.tenant_id, principal.user_id);
    if (!mates.ok()) return std::move(mates).error();
    principal.team_user_ids = std::move(mates).value();
  }
  return core::OkStatus();
}

void AccessResolver::Invalidate(const std::string& tenant_id) {
  std::lock_guard lock(mutex_);
  scopes_.erase(tenant_id);
  const std::string prefix = tenant_id + "/";
  std::erase_if(mates_, [&prefix](const auto& entry) { return entry.first.starts_with(prefix); });
}

core::Result<std::vector<storage::ScopeSetting>> AccessResolver::Scopes(
    const std::string& tenant_id) {
  const core::EpochMillis now = clock_.NowMillis();
  {
    std::lock_guard lock(mutex_);
    auto found = scopes_.find(tenant_id);
    if (found != scopes_.end() && now - found->second.at < kCacheTtl) return found->second.value;
  }
  auto loaded = directory_.ListScopes(tenant_id);
  if (!loaded.ok()) return loaded;
  std::lock_guard lock(mutex_);
  if (scopes_.size() >= kMaxCached) scopes_.clear();
  scopes_[tenant_id] = {*loaded, now};
  return loaded;
}

core::Result<std::vector<std::string>> AccessResolver::Mates(const std::string& tenant_id,
                                                             const std::string& user_id) {
  const core::EpochMillis now = clock_.NowMillis();
  const std::string key = tenant_id + "/" + user_id;
  {
    std::lock_guard lock(mutex_);
    auto found = mates_.find(key);
    if (found != mates_.end() && now - found->second.at < kCacheTtl) return found->second.value;
  }
  auto loaded = directory_.TeamMates(tenant_id, user_id);
  if (!loaded.ok()) return loaded;
  std::lock_guard lock(mutex_);
  if (mates_.size() >= kMaxCached) mates_.clear();
  mates_[key] = {*loaded, now};
  return loaded;
}

}  // namespace zebros::auth
