#include "auth/idp_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include "auth/api_keys.h"
#include "core/crypto.h"
#include "core/testing/fake_clock.h"
#include "core/testing/temp_dir.h"
#include "domain/builtin_schemas.h"
#include "storage/sql/sql_directory_store.h"
#include "storage/sql/sql_identity_store.h"
#include "storage/sqlite/database.h"

namespace zebros::auth {
namespace {

constexpr core::EpochMillis kMinute = 60000;
constexpr char kRedirect[] = "http://127.0.0.1:7777/cb";
constexpr char kPassword[] = "correct horse battery";

using core::testing::FakeClock;

class IdpServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    auto db =
        storage::sqlite::Database::Open(dir_ + "/zebros.db", domain::BuiltinObjectTypes(), clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    directory_ =
        std::make_unique<storage::sql::SqlDirectoryStore>(*db_, ids_, domain::BuiltinObjectTypes());
    identity_ = std::make_unique<storage::sql::SqlIdentityStore>(*db_, ids_);
    auto keys = KeyRing::Open(*identity_, ids_);
    ASSERT_TRUE(keys.ok());
    keys_ = std::move(keys).value();
    idp_ = std::make_unique<IdpService>(*identity_, *directory_, *keys_, hasher_, clock_,
                                        [] { return std::string("https://crm.example"); });
    tenant_ = directory_->CreateTenant("acme").value();
    storage::NewUser user{tenant_.id, "ada", "ada@example.com", "Ada", model::Role::kSales};
    user.password_hash = hasher_.Hash(kPassword).value();
    user_ = identity_->CreateUser(user, storage::SystemActor(tenant_.id)).value();
    realm_ = idp_->FindRealm("acme").value();
  }
  void TearDown() override {
    idp_.reset();
    identity_.reset();
    directory_.reset();
    db_.reset();
  }

  core::Result<TokenSet> SignIn(const std::string& password = kPassword,
                                const std::string& ip = "10.0.0.1") {
    return idp_->PasswordGrant(realm_, "zebros-cli", "ada", password, "openid", ip);
  }

  // Verifies an access token as the resource server would; returns its claims.
  boost::json::object Verify(const std::string& token) {
    auto jwt = DecodeJwt(token);
    EXPECT_TRUE(jwt.ok());
    if (!jwt.ok()) return {};
    bool verified = false;
    for (const auto& key : keys_->PublicKeys()) {
      if (key.kid == jwt->kid) verified = VerifySignature(*jwt, key);
    }
    EXPECT_TRUE(verified);
    EXPECT_TRUE(ValidateClaims(*jwt, {realm_.issuer, "zebros-api", clock_.NowMillis()}).ok());
    return jwt->claims;
  }

  static std::string ErrorOf(const core::Error& error) { return error.problem_code; }

  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  PasswordHasher hasher_{PasswordCost::Minimal()};
  core::testing::TempDir temp_{"zebros-idp-test"};
  std::string dir_;
  std::unique_ptr<storage::sqlite::Database> db_;
  std::unique_ptr<storage::sql::SqlDirectoryStore> directory_;
  std::unique_ptr<storage::sql::SqlIdentityStore> identity_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<IdpService> idp_;
  storage::TenantInfo tenant_;
  storage::UserInfo user_;
  Realm realm_;
};

TEST_F(IdpServiceTest, RealmIssuerAndUnknownRealm) {
  EXPECT_EQ(realm_.issuer, "https://crm.example/realms/acme");
  EXPECT_EQ(idp_->IssuerFor("other"), "https://crm.example/realms/other");
  auto missing = idp_->FindRealm("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, core::Code::kNotFound);
}

TEST_F(IdpServiceTest, PasswordGrantMintsKeycloakStyleTokens) {
  auto tokens = SignIn();
  ASSERT_TRUE(tokens.ok()) << tokens.error().public_message;
  EXPECT_EQ(tokens->expires_in, 300);
  EXPECT_EQ(tokens->refresh_expires_in, 1800);
  EXPECT_FALSE(tokens->id_token.empty());
  const auto claims = Verify(tokens->access_token);
  EXPECT_EQ(claims.at("sub").as_string(), user_.id);
  EXPECT_EQ(claims.at("azp").as_string(), "zebros-cli");
  EXPECT_EQ(claims.at("typ").as_string(), "Bearer");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 300);
  EXPECT_EQ(claims.at("sid").as_string(), tokens->session_id);
  EXPECT_EQ(claims.at("realm_access").at("roles").at(0).as_string(), "sales");
  EXPECT_EQ(claims.at("email").as_string(), "ada@example.com");
  EXPECT_EQ(claims.at("preferred_username").as_string(), "ada");
}

// A password hashed at another cost (an earlier default) is hashed again at the hasher's on the
// next successful sign-in; a failed one leaves it, and the new hash signs in too.
TEST_F(IdpServiceTest, ASignInHashesAPasswordOfAnotherCostAgain) {
  PasswordHasher earlier(PasswordCost{2, 16u << 10});
  const std::string old_hash = earlier.Hash(kPassword).value();
  ASSERT_TRUE(identity_->SetPassword(tenant_.id, user_.id, old_hash).ok());
  const auto stored_hash = [&] { return identity_->FindUserForLogin(tenant_.id, "ada")->second; };

  ASSERT_FALSE(SignIn("wrong password").ok());
  EXPECT_EQ(stored_hash(), old_hash);

  ASSERT_TRUE(SignIn().ok());
  const std::string new_hash = stored_hash();
  EXPECT_NE(new_hash, old_hash);
  EXPECT_FALSE(hasher_.NeedsRehash(new_hash));
  EXPECT_TRUE(hasher_.Verify(new_hash, kPassword));
  ASSERT_TRUE(SignIn().ok());
  EXPECT_EQ(stored_hash(), new_hash);  // at the current cost: left as it is
}

TEST_F(IdpServiceTest, WrongPasswordUnknownUserAndInactiveUserLookAlike) {
  auto wrong = SignIn("wrong password");
  auto unknown = idp_->PasswordGrant(realm_, "zebros-cli", "nobody", kPassword, "", "10.0.0.2");
  storage::UserChange off;
  off.active = false;
  ASSERT_TRUE(
      identity_->UpdateUser(tenant_.id, user_.id, off, storage::SystemActor(tenant_.id)).ok());
  auto inactive = SignIn(kPassword, "10.0.0.3");
  for (const auto* result : {&wrong, &unknown, &inactive}) {
    ASSERT_FALSE(result->ok());
    EXPECT_EQ(ErrorOf(result->error()), "invalid_grant");
    EXPECT_EQ(result->error().public_message, wrong.error().public_message);
  }
}

TEST_F(IdpServiceTest, ThrottlesAnAccountAfterFiveFailures) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ErrorOf(SignIn("wrong", "10.1.0." + std::to_string(i)).error()), "invalid_grant");
  }
  auto locked = SignIn(kPassword, "10.2.0.1");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, core::Code::kTooManyRequests);
  EXPECT_EQ(idp_->RetryAfterSeconds(realm_, "ADA", "10.2.0.1"), 60);
  clock_.Advance(kMinute);
  EXPECT_TRUE(SignIn(kPassword, "10.2.0.1").ok());
}

TEST_F(IdpServiceTest, ThrottlesAnIpAfterFiveFailures) {
  for (int i = 0; i < 5; ++i) {
    auto failed = idp_->PasswordGrant(realm_, "zebros-cli", "ghost" + std::to_string(i), "pw", "",
                                      "10.9.9.9");
    EXPECT_EQ(ErrorOf(failed.error()), "invalid_grant");
  }
  EXPECT_EQ(SignIn(kPassword, "10.9.9.9").error().code, core::Code::kTooManyRequests);
  EXPECT_TRUE(SignIn(kPassword, "10.9.9.8").ok());
}

TEST_F(IdpServiceTest, AuthorizationCodeWithPkce) {
  const std::string verifier = core::Base64UrlEncode(core::RandomBytes(32));
  AuthorizeRequest request{"zebros-web",   kRedirect, "code",
                           "openid email", "st",      core::Base64UrlEncode(core::Sha256(verifier)),
                           "S256",         "nonce-1"};
  ASSERT_TRUE(idp_->CheckClient(realm_, request).ok());
  ASSERT_TRUE(IdpService::CheckAuthorizeParams(request).ok());
  auto grant = idp_->Authorize(realm_, request, "ada@example.com", kPassword, "10.0.0.1");
  ASSERT_TRUE(grant.ok());
  auto wrong = idp_->ExchangeCode(realm_, "zebros-web", grant->code, kRedirect,
                                  core::Base64UrlEncode(core::RandomBytes(32)));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(ErrorOf(wrong.error()), "invalid_grant");

  grant = idp_->Authorize(realm_, request, "ada", kPassword, "10.0.0.1");
  ASSERT_TRUE(grant.ok());
  auto tokens = idp_->ExchangeCode(realm_, "zebros-web", grant->code, kRedirect, verifier);
  ASSERT_TRUE(tokens.ok()) << tokens.error().public_message;
  EXPECT_EQ(tokens->scope, "openid email");
  EXPECT_EQ(tokens->session_id, grant->session_id);
  auto id = DecodeJwt(tokens->id_token);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->claims.at("nonce").as_string(), "nonce-1");
  EXPECT_EQ(id->claims.at("aud").as_string(), "zebros-web");
  EXPECT_FALSE(idp_->ExchangeCode(realm_, "zebros-web", grant->code, kRedirect, verifier).ok());
}

TEST_F(IdpServiceTest, ChecksClientsRedirectsAndPkceParameters) {
  AuthorizeRequest request{"zebros-web", kRedirect, "code", "", "", std::string(43, 'A'), "S256"};
  const std::pair<const char*, bool> redirects[] = {
      {"http://127.0.0.1:1/", true},          {"http://localhost/x/y?z=1", true},
      {"http://[::1]:8080/cb", true},         {"https://crm.example/app/cb", true},
      {"https://crm.example.evil/cb", false}, {"https://crm.exampl", false},
      {"http://127.0.0.1.evil.com/", false},  {"http://localhost@evil.com/", false},
      {"http://localhost:99999999/", false},  {"http://127.0.0.1:1/#frag", false},
      {"https://127.0.0.1/", false},          {"", false},
  };
  for (const auto& [uri, allowed] : redirects) {
    request.redirect_uri = uri;
    EXPECT_EQ(idp_->CheckClient(realm_, request).ok(), allowed) << uri;
  }
  request.redirect_uri = kRedirect;
  request.client_id = "other";
  EXPECT_FALSE(idp_->CheckClient(realm_, request).ok());
  request.client_id = "zebros-cli";
  EXPECT_TRUE(idp_->CheckClient(realm_, request).ok());

  EXPECT_TRUE(IdpService::CheckAuthorizeParams(request).ok());
  auto plain = request;
  plain.code_challenge_method = "plain";
  EXPECT_EQ(ErrorOf(IdpService::CheckAuthorizeParams(plain).error()), "invalid_request");
  auto token = request;
  token.response_type = "token";
  EXPECT_EQ(ErrorOf(IdpService::CheckAuthorizeParams(token).error()), "unsupported_response_type");
  auto missing = request;
  missing.code_challenge.clear();
  EXPECT_FALSE(IdpService::CheckAuthorizeParams(missing).ok());
}

TEST_F(IdpServiceTest, RefreshRotatesAndReuseRevokesTheSession) {
  auto first = SignIn();
  ASSERT_TRUE(first.ok());
  auto second = idp_->Refresh(realm_, "zebros-cli", first->refresh_token);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->refresh_token, first->refresh_token);
  EXPECT_EQ(second->session_id, first->session_id);
  auto reuse = idp_->Refresh(realm_, "zebros-cli", first->refresh_token);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(ErrorOf(reuse.error()), "invalid_grant");
  EXPECT_FALSE(idp_->Refresh(realm_, "zebros-cli", second->refresh_token).ok());
  EXPECT_FALSE(idp_->UserInfo(realm_, second->access_token).ok());
}

TEST_F(IdpServiceTest, RefreshTokensExpireWhenIdleAndSessionsAtTheirMaximumAge) {
  auto tokens = SignIn();
  ASSERT_TRUE(tokens.ok());
  clock_.Advance(31 * kMinute);
  EXPECT_FALSE(idp_->Refresh(realm_, "zebros-cli", tokens->refresh_token).ok());

  tokens = SignIn();
  ASSERT_TRUE(tokens.ok());
  for (int i = 0; i < 20; ++i) {  // 20 × 29 min = 9 h 40 min
    clock_.Advance(29 * kMinute);
    tokens = idp_->Refresh(realm_, "zebros-cli", tokens->refresh_token);
    ASSERT_TRUE(tokens.ok()) << i;
  }
  // The session's 10 hours cap the new token's life at 20 minutes.
  EXPECT_EQ(tokens->refresh_expires_in, 20 * 60);
  clock_.Advance(19 * kMinute);
  tokens = idp_->Refresh(realm_, "zebros-cli", tokens->refresh_token);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->refresh_expires_in, 60);
  clock_.Advance(2 * kMinute);
  auto expired = idp_->Refresh(realm_, "zebros-cli", tokens->refresh_token);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(ErrorOf(expired.error()), "invalid_grant");
}

TEST_F(IdpServiceTest, SignInsPurgeDeadSessionsHourly) {
  auto old = SignIn();
  ASSERT_TRUE(old.ok());
  auto recent = SignIn();
  ASSERT_TRUE(recent.ok());
  clock_.Advance(11 * 60 * kMinute);
  ASSERT_TRUE(SignIn().ok());  // the first sign-in after an hour purges
  auto session = identity_->FindSessionByRefreshToken(core::Sha256Hex(old->refresh_token));
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, core::Code::kNotFound);
  EXPECT_EQ(ErrorOf(idp_->Logout(realm_, "zebros-cli", old->refresh_token).error()),
            "invalid_grant");
}

TEST_F(IdpServiceTest, UserInfoAndLogout) {
  auto tokens = SignIn();
  ASSERT_TRUE(tokens.ok());
  auto info = idp_->UserInfo(realm_, tokens->access_token);
  ASSERT_TRUE(info.ok()) << info.error().detail;
  EXPECT_NE(info->find(user_.id), std::string::npos);
  EXPECT_FALSE(idp_->Logout(realm_, "zebros-web", tokens->refresh_token).ok());
  ASSERT_TRUE(idp_->Logout(realm_, "zebros-cli", tokens->refresh_token).ok());
  EXPECT_FALSE(idp_->Refresh(realm_, "zebros-cli", tokens->refresh_token).ok());
  auto after = idp_->UserInfo(realm_, tokens->access_token);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, core::Code::kUnauthenticated);
}

TEST_F(IdpServiceTest, UserInfoRefusesExpiredAndForeignTokens) {
  auto tokens = SignIn();
  ASSERT_TRUE(tokens.ok());
  directory_->CreateTenant("globex").value();
  auto other = idp_->FindRealm("globex").value();
  EXPECT_FALSE(idp_->UserInfo(other, tokens->access_token).ok());
  clock_.Advance(7 * kMinute);
  EXPECT_FALSE(idp_->UserInfo(realm_, tokens->access_token).ok());
  EXPECT_FALSE(idp_->UserInfo(realm_, "not.a.token").ok());
}

TEST_F(IdpServiceTest, ClientCredentialsWithAnApiKey) {
  const std::string secret = NewApiKeySecret();
  auto key =
      directory_->CreateApiKey(tenant_.id, "svc", model::Role::kSupport, HashApiKeySecret(secret),
                               std::nullopt, storage::SystemActor(tenant_.id));
  ASSERT_TRUE(key.ok());
  auto tokens = idp_->ClientCredentials(realm_, key->id, secret);
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->refresh_token.empty());
  const auto claims = Verify(tokens->access_token);
  EXPECT_EQ(claims.at("sub").as_string(), key->id);
  EXPECT_EQ(claims.at("azp").as_string(), key->id);
  EXPECT_EQ(claims.at("realm_access").at("roles").at(0).as_string(), "support");
  auto wrong_secret = idp_->ClientCredentials(realm_, key->id, secret + "x");
  EXPECT_EQ(ErrorOf(wrong_secret.error()), "invalid_client");
  EXPECT_EQ(wrong_secret.error().code, core::Code::kUnauthenticated);
  directory_->CreateTenant("globex").value();
  auto other = idp_->FindRealm("globex").value();
  EXPECT_FALSE(idp_->ClientCredentials(other, key->id, secret).ok());
}

TEST_F(IdpServiceTest, PasswordGrantIsForTheCliClientOnly) {
  auto web = idp_->PasswordGrant(realm_, "zebros-web", "ada", kPassword, "", "10.0.0.1");
  EXPECT_EQ(ErrorOf(web.error()), "unauthorized_client");
  auto unknown = idp_->PasswordGrant(realm_, "evil", "ada", kPassword, "", "10.0.0.1");
  EXPECT_EQ(ErrorOf(unknown.error()), "invalid_client");
}

TEST_F(IdpServiceTest, NewTokensUseTheRotatedKey) {
  const std::string before = DecodeJwt(SignIn()->access_token)->kid;
  auto rotated = KeyRing::Rotate(*identity_, ids_);
  ASSERT_TRUE(rotated.ok());
  auto tokens = SignIn();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(DecodeJwt(tokens->access_token)->kid, *rotated);
  EXPECT_NE(before, *rotated);
  Verify(tokens->access_token);
}

}  // namespace
}  // namespace zebros::auth
