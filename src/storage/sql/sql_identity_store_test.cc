#include "storage/sql/sql_identity_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "core/testing/fake_clock.h"
#include "core/testing/temp_dir.h"
#include "domain/builtin_schemas.h"
#include "storage/sql/sql_directory_store.h"
#include "storage/sqlite/database.h"

namespace zebros::storage::sql {
using sqlite::Connection;
using sqlite::Database;
namespace {
using core::Code;

constexpr core::EpochMillis kStart = core::testing::FakeClock::kDefaultStart;
constexpr core::EpochMillis kMinute = 60000;

using core::testing::FakeClock;

class IdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    auto db = Database::Open(dir_ + "/zebros.db", domain::BuiltinObjectTypes(), clock_);
    ASSERT_TRUE(db.ok()) << db.error().detail;
    db_ = std::move(db).value();
    directory_ = std::make_unique<SqlDirectoryStore>(*db_, ids_, domain::BuiltinObjectTypes());
    store_ = std::make_unique<SqlIdentityStore>(*db_, ids_);
    tenant_a_ = directory_->CreateTenant("acme").value().id;
    tenant_b_ = directory_->CreateTenant("globex").value().id;
  }
  void TearDown() override {
    store_.reset();
    directory_.reset();
    db_.reset();
  }

  UserInfo MakeUser(const std::string& tenant, const std::string& username,
                    const std::string& email, const std::string& hash = "$argon2id$fake") {
    NewUser user;
    user.tenant_id = tenant;
    user.username = username;
    user.email = email;
    user.role = model::Role::kSales;
    user.password_hash = hash;
    auto created = store_->CreateUser(user, SystemActor(user.tenant_id));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().detail);
    return created.ok() ? created.value() : UserInfo{};
  }

  // A user with a session and its first refresh token "r0".
  SessionInfo StartSession() {
    const auto user = MakeUser(tenant_a_, "sam", "sam@example.com");
    auto session = store_->CreateSession(tenant_a_, user.id, "zebros-cli", "openid email");
    EXPECT_TRUE(session.ok());
    EXPECT_TRUE(store_->StoreRefreshToken("r0", session->id, kStart + 30 * kMinute).ok());
    return session.value();
  }

  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  core::testing::TempDir temp_{"zebros-identity-test"};
  std::string dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlDirectoryStore> directory_;
  std::unique_ptr<SqlIdentityStore> store_;
  std::string tenant_a_;
  std::string tenant_b_;
};

TEST_F(IdentityStoreTest, CreatesAndFindsUsersWithinTheirTenant) {
  const auto user = MakeUser(tenant_a_, "Ada", "Ada@Example.com");
  EXPECT_TRUE(core::IsWellFormedId(user.id, "usr"));
  EXPECT_EQ(user.email, "ada@example.com");
  EXPECT_TRUE(user.has_password);
  auto found = store_->FindUser(tenant_a_, user.id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->username, "Ada");
  EXPECT_EQ(found->role, model::Role::kSales);
  auto other_tenant = store_->FindUser(tenant_b_, user.id);
  ASSERT_FALSE(other_tenant.ok());
  EXPECT_EQ(other_tenant.error().code, Code::kNotFound);
}

TEST_F(IdentityStoreTest, UsernameAndEmailAreUniquePerTenantIgnoringCase) {
  MakeUser(tenant_a_, "ada", "ada@example.com");
  NewUser same_name{tenant_a_, "ADA", "other@example.com"};
  auto taken = store_->CreateUser(same_name, SystemActor(same_name.tenant_id));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, Code::kConflict);
  EXPECT_EQ(taken.error().problem_code, "user_exists");
  NewUser same_email{tenant_a_, "ada2", "ADA@example.com"};
  EXPECT_FALSE(store_->CreateUser(same_email, SystemActor(same_email.tenant_id)).ok());
  NewUser other_tenant{tenant_b_, "ada", "ada@example.com"};
  EXPECT_TRUE(store_->CreateUser(other_tenant, SystemActor(other_tenant.tenant_id)).ok());
}

TEST_F(IdentityStoreTest, FindsLoginByUsernameOrEmailWithTheHash) {
  const auto user = MakeUser(tenant_a_, "ada", "ada@example.com", "hash-1");
  for (const char* name : {"ada", "ADA", "Ada@Example.COM"}) {
    auto found = store_->FindUserForLogin(tenant_a_, name);
    ASSERT_TRUE(found.ok()) << name;
    EXPECT_EQ(found->first.id, user.id);
    EXPECT_EQ(found->second, "hash-1");
  }
  EXPECT_FALSE(store_->FindUserForLogin(tenant_b_, "ada").ok());
  EXPECT_FALSE(store_->FindUserForLogin(tenant_a_, "nobody").ok());
}

TEST_F(IdentityStoreTest, InvitedUserHasNoPasswordUntilSet) {
  const auto user = MakeUser(tenant_a_, "inv", "inv@example.com", "");
  EXPECT_FALSE(user.has_password);
  EXPECT_EQ(store_->FindUserForLogin(tenant_a_, "inv")->second, "");
  ASSERT_TRUE(store_->SetPassword(tenant_a_, user.id, "hash-2").ok());
  EXPECT_EQ(store_->FindUserForLogin(tenant_a_, "inv")->second, "hash-2");
  EXPECT_TRUE(store_->FindUser(tenant_a_, user.id)->has_password);
  auto elsewhere = store_->SetPassword(tenant_b_, user.id, "hash-3");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code, Code::kNotFound);
}

TEST_F(IdentityStoreTest, SetPasswordRevokesSessions) {
  const auto session = StartSession();
  ASSERT_TRUE(store_->SetPassword(tenant_a_, session.user_id, "new").ok());
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
  EXPECT_FALSE(store_->RotateRefreshToken("r0", "r1", kStart + kMinute, kStart).ok());
}

TEST_F(IdentityStoreTest, DeactivationRevokesSessionsAndReactivationKeepsThemDead) {
  const auto session = StartSession();
  UserChange off;
  off.active = false;
  auto updated = store_->UpdateUser(tenant_a_, session.user_id, off, SystemActor(tenant_a_));
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->active);
  EXPECT_TRUE(updated->deactivated_at.has_value());
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
  UserChange on;
  on.active = true;
  on.role = model::Role::kSupport;
  updated = store_->UpdateUser(tenant_a_, session.user_id, on, SystemActor(tenant_a_));
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(updated->active);
  EXPECT_FALSE(updated->deactivated_at.has_value());
  EXPECT_EQ(store_->FindUser(tenant_a_, session.user_id)->role, model::Role::kSupport);
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
}

TEST_F(IdentityStoreTest, ListsUsersInPages) {
  for (int i = 0; i < 5; ++i) {
    MakeUser(tenant_a_, "u" + std::to_string(i), "u" + std::to_string(i) + "@example.com");
  }
  MakeUser(tenant_b_, "other", "other@example.com");
  auto first = store_->ListUsers(tenant_a_, "", 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->users.size(), 3u);
  EXPECT_EQ(first->users[0].username, "u0");
  ASSERT_FALSE(first->next_cursor.empty());
  auto second = store_->ListUsers(tenant_a_, first->next_cursor, 3);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->users.size(), 2u);
  EXPECT_EQ(second->users[1].username, "u4");
  EXPECT_TRUE(second->next_cursor.empty());
}

TEST_F(IdentityStoreTest, UpsertsExternalUsersJustInTime) {
  NewUser external{
      tenant_a_, "kc-ada", "ada@example.com", "Ada", model::Role::kSales, "https://kc/realms/acme",
      "sub-1",   ""};
  auto first = store_->UpsertExternalUser(external);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_password);
  external.role = model::Role::kAdmin;
  external.email = "ada@new.example.com";
  auto second = store_->UpsertExternalUser(external);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->role, model::Role::kAdmin);
  EXPECT_EQ(second->email, "ada@new.example.com");
  // External users never sign in with a password here.
  EXPECT_FALSE(store_->FindUserForLogin(tenant_a_, "kc-ada").ok());
}

TEST_F(IdentityStoreTest, AuthCodeIsUsableOnceAndAReplayRevokesTheSession) {
  const auto session = StartSession();
  AuthCode code{"c1",   session.id, "zebros-web", "http://127.0.0.1:9/cb",
                "chal", "n",        "openid",     kStart + kMinute};
  ASSERT_TRUE(store_->StoreAuthCode(code).ok());
  auto consumed = store_->ConsumeAuthCode("c1", kStart);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(consumed->redirect_uri, "http://127.0.0.1:9/cb");
  EXPECT_EQ(consumed->code_challenge, "chal");
  EXPECT_EQ(consumed->nonce, "n");
  EXPECT_FALSE(store_->FindSession(session.id)->revoked_at.has_value());
  auto replay = store_->ConsumeAuthCode("c1", kStart);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, Code::kNotFound);
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
}

TEST_F(IdentityStoreTest, ExpiredAuthCodeIsRefused) {
  const auto session = StartSession();
  AuthCode code{"c2",   session.id, "zebros-web", "http://127.0.0.1:9/cb",
                "chal", "",         "",           kStart + kMinute};
  ASSERT_TRUE(store_->StoreAuthCode(code).ok());
  EXPECT_FALSE(store_->ConsumeAuthCode("c2", kStart + kMinute).ok());
  EXPECT_FALSE(store_->ConsumeAuthCode("unknown", kStart).ok());
}

TEST_F(IdentityStoreTest, RefreshTokensRotateAndAReuseRevokesTheSession) {
  const auto session = StartSession();
  auto rotated = store_->RotateRefreshToken("r0", "r1", kStart + 30 * kMinute, kStart);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->id, session.id);
  EXPECT_EQ(rotated->user_id, session.user_id);
  ASSERT_TRUE(store_->RotateRefreshToken("r1", "r2", kStart + 30 * kMinute, kStart).ok());
  auto reuse = store_->RotateRefreshToken("r0", "r9", kStart + 30 * kMinute, kStart);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(reuse.error().code, Code::kUnauthenticated);
  EXPECT_EQ(reuse.error().problem_code, "refresh_token_reused");
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
  // The newest token died with the session.
  auto newest = store_->RotateRefreshToken("r2", "r3", kStart + 30 * kMinute, kStart);
  ASSERT_FALSE(newest.ok());
  EXPECT_EQ(newest.error().code, Code::kNotFound);
}

TEST_F(IdentityStoreTest, ExpiredOrUnknownRefreshTokenIsRefusedWithoutRevoking) {
  const auto session = StartSession();
  auto expired =
      store_->RotateRefreshToken("r0", "r1", kStart + 60 * kMinute, kStart + 30 * kMinute);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, Code::kNotFound);
  EXPECT_FALSE(store_->RotateRefreshToken("nope", "r1", kStart, kStart).ok());
  EXPECT_FALSE(store_->FindSession(session.id)->revoked_at.has_value());
}

TEST_F(IdentityStoreTest, FindsAndRevokesTheSessionOfARefreshToken) {
  const auto session = StartSession();
  auto found = store_->FindSessionByRefreshToken("r0");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, session.id);
  EXPECT_EQ(found->client_id, "zebros-cli");
  EXPECT_EQ(found->scope, "openid email");
  ASSERT_TRUE(store_->RevokeSession(session.id).ok());
  EXPECT_TRUE(store_->FindSession(session.id)->revoked_at.has_value());
  EXPECT_FALSE(store_->RotateRefreshToken("r0", "r1", kStart + kMinute, kStart).ok());
  EXPECT_FALSE(store_->FindSessionByRefreshToken("unknown").ok());
}

TEST_F(IdentityStoreTest, PurgesExpiredCodesTokensAndOldSessions) {
  const auto session = StartSession();  // refresh token r0 expires at kStart + 30 min
  ASSERT_TRUE(store_->StoreRefreshToken("r-late", session.id, kStart + 90 * kMinute).ok());
  AuthCode code{"c1",   session.id, "zebros-web", "http://127.0.0.1/",
                "chal", "",         "",           kStart + kMinute};
  ASSERT_TRUE(store_->StoreAuthCode(code).ok());
  ASSERT_TRUE(store_->PurgeExpired(kStart + 60 * kMinute, kStart).ok());
  EXPECT_FALSE(store_->FindSessionByRefreshToken("r0").ok());
  EXPECT_TRUE(store_->FindSessionByRefreshToken("r-late").ok());
  EXPECT_FALSE(store_->ConsumeAuthCode("c1", kStart).ok());
  EXPECT_TRUE(store_->FindSession(session.id).ok());
  ASSERT_TRUE(store_->PurgeExpired(kStart + 60 * kMinute, kStart + 1).ok());
  EXPECT_FALSE(store_->FindSession(session.id).ok());
  EXPECT_FALSE(store_->FindSessionByRefreshToken("r-late").ok());
}

TEST_F(IdentityStoreTest, RecordsLastLogin) {
  const auto user = MakeUser(tenant_a_, "ada", "ada@example.com");
  ASSERT_TRUE(store_->RecordLogin(tenant_a_, user.id, kStart + 5, std::nullopt).ok());
  EXPECT_EQ(store_->FindUser(tenant_a_, user.id)->last_login_at.value_or(0), kStart + 5);
}

// A sign-in replaces the hash that verified with one at the current cost, but never a hash that
// changed in between (a password change meanwhile wins), and it keeps the user's sessions.
TEST_F(IdentityStoreTest, ASignInReplacesOnlyTheHashThatVerified) {
  const auto user = MakeUser(tenant_a_, "ada", "ada@example.com", "$argon2id$old");
  const auto session = store_->CreateSession(tenant_a_, user.id, "zebros-cli", "openid").value();
  const auto stored_hash = [&] { return store_->FindUserForLogin(tenant_a_, "ada")->second; };
  const auto last_login = [&] { return store_->FindUser(tenant_a_, user.id)->last_login_at; };
  const auto sign_in = [&](core::EpochMillis at, const std::string& verified, std::string again) {
    return store_->RecordLogin(tenant_a_, user.id, at, PasswordRehash{verified, std::move(again)});
  };

  ASSERT_TRUE(sign_in(kStart + 5, "$argon2id$old", "$argon2id$new").ok());
  EXPECT_EQ(stored_hash(), "$argon2id$new");
  EXPECT_EQ(last_login(), kStart + 5);
  EXPECT_TRUE(store_->FindSession(session.id).ok());

  // The hash that verified is no longer the stored one: the sign-in leaves it alone.
  ASSERT_TRUE(sign_in(kStart + 9, "$argon2id$old", "$argon2id$stale").ok());
  EXPECT_EQ(stored_hash(), "$argon2id$new");
  EXPECT_EQ(last_login(), kStart + 9);
}

}  // namespace
}  // namespace zebros::storage::sql
