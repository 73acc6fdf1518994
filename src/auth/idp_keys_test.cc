#include "auth/idp_keys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/json.h"
#include "core/testing/temp_dir.h"
#include "domain/builtin_schemas.h"
#include "storage/sql/sql_identity_store.h"
#include "storage/sqlite/database.h"

namespace zebros::auth {
namespace {

class FakeClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return now_ += 1000; }
  void Advance(core::EpochMillis ms) { now_ += ms; }

 private:
  mutable std::atomic<core::EpochMillis> now_{1767225600000};
};

// The keys live in a real database (SQLite in a temp dir), as in the server.
class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    dir_ = root_ + "/idp-keys";
    auto db =
        storage::sqlite::Database::Open(root_ + "/zebros.db", domain::BuiltinObjectTypes(), clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    store_ = std::make_unique<storage::sql::SqlIdentityStore>(*db_, ids_);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  std::size_t PublishedKeys(KeyRing& ring) {
    auto jwks = core::ParseJson(ring.JwksJson());
    EXPECT_TRUE(jwks.ok());
    return jwks.ok() ? jwks->at("keys").as_array().size() : 0;
  }
  std::size_t StoredKeys() { return store_->ListSigningKeys().value().size(); }

  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  core::testing::TempDir temp_{"zebros-keys-test"};
  std::string root_;
  std::string dir_;
  std::unique_ptr<storage::sqlite::Database> db_;
  std::unique_ptr<storage::sql::SqlIdentityStore> store_;
};

TEST_F(KeyRingTest, FirstOpenCreatesAKeyInTheDatabase) {
  auto ring = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(ring.ok()) << ring.error().detail;
  auto key = (*ring)->Current();
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(core::IsWellFormedId(key->kid(), "idk"));
  EXPECT_EQ(StoredKeys(), 1u);
  EXPECT_EQ(PublishedKeys(**ring), 1u);

  // Another node (or a restart) opening the same database uses the same key.
  auto reopened = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Current()->kid(), key->kid());
  EXPECT_EQ(StoredKeys(), 1u);
}

TEST_F(KeyRingTest, KeyFilesOfAnOlderInstallMoveIntoTheDatabase) {
  auto key = SigningKey::Generate(ids_.Next("idk"));
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  {
    std::ofstream file(dir_ + "/" + key->kid() + ".pem");
    file << key->PrivatePem();
  }
  auto ring = KeyRing::Open(*store_, ids_, dir_);
  ASSERT_TRUE(ring.ok());
  // The old key still signs (no new one was made), and tokens it signed still verify.
  EXPECT_EQ((*ring)->Current()->kid(), key->kid());
  EXPECT_EQ(StoredKeys(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_));  // the private key lives in one place now
}

TEST_F(KeyRingTest, AnotherProcessRotatesAndTheRingFollows) {
  auto ring = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(ring.ok());
  const std::string first = (*ring)->Current()->kid();
  auto rotated = KeyRing::Rotate(*store_, ids_);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ((*ring)->Current()->kid(), *rotated);
  const auto keys = (*ring)->PublicKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, *rotated);
  EXPECT_EQ(keys[1].kid, first);
}

TEST_F(KeyRingTest, RapidRotationsKeepEveryKeyWhoseTokensMayStillLive) {
  auto ring = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(ring.ok());
  std::string newest;
  for (int i = 0; i < 4; ++i) newest = KeyRing::Rotate(*store_, ids_).value();
  // Five keys made seconds apart: tokens of each may still be live, so all verify.
  EXPECT_EQ(StoredKeys(), 5u);
  EXPECT_EQ(PublishedKeys(**ring), 5u);
  EXPECT_EQ((*ring)->Current()->kid(), newest);
}

TEST_F(KeyRingTest, KeysRetireOnceTheirTokensCanNoLongerLive) {
  auto ring = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(ring.ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(KeyRing::Rotate(*store_, ids_).ok());
  clock_.Advance(KeyRing::kRetention + 60'000);
  const std::string newest = KeyRing::Rotate(*store_, ids_).value();
  // The newest three stay regardless; the two older ones were replaced long ago.
  EXPECT_EQ(StoredKeys(), KeyRing::kPublishedKeys);
  EXPECT_EQ(PublishedKeys(**ring), KeyRing::kPublishedKeys);
  EXPECT_EQ((*ring)->Current()->kid(), newest);
}

TEST_F(KeyRingTest, SignedTokensVerifyWithThePublishedKey) {
  auto ring = KeyRing::Open(*store_, ids_);
  ASSERT_TRUE(ring.ok());
  const std::string token = (*ring)->Current()->Sign(boost::json::object{{"sub", "x"}});
  auto jwt = DecodeJwt(token);
  ASSERT_TRUE(jwt.ok());
  const auto keys = (*ring)->PublicKeys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(jwt->kid, keys[0].kid);
  EXPECT_TRUE(VerifySignature(*jwt, keys[0]));
}

}  // namespace
}  // namespace zebros::auth
