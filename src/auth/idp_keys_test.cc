#include "auth/idp_keys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>

#include "core/json.h"

namespace zebros::auth {
namespace {

class FakeClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return now_ += 1000; }
  void Advance(core::EpochMillis ms) { now_ += ms; }

 private:
  mutable std::atomic<core::EpochMillis> now_{1767225600000};
};

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string path = std::filesystem::temp_directory_path() / "zebros-keys-test-XXXXXX";
    ASSERT_NE(mkdtemp(path.data()), nullptr);
    root_ = path;
    dir_ = root_ + "/idp-keys";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::size_t PublishedKeys(KeyRing& ring) {
    auto jwks = core::ParseJson(ring.JwksJson());
    EXPECT_TRUE(jwks.ok());
    return jwks.ok() ? jwks->at("keys").as_array().size() : 0;
  }
  std::size_t KeyFiles() {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir_),
                                                  std::filesystem::directory_iterator()));
  }

  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  std::string root_;
  std::string dir_;
};

TEST_F(KeyRingTest, FirstOpenCreatesAPrivateDirectoryAndKey) {
  auto ring = KeyRing::Open(dir_, ids_);
  ASSERT_TRUE(ring.ok()) << ring.error().detail;
  auto key = (*ring)->Current();
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(core::IsWellFormedId(key->kid(), "idk"));
  struct stat info {};
  ASSERT_EQ(::stat(dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_ + "/" + key->kid() + ".pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(PublishedKeys(**ring), 1u);

  auto reopened = KeyRing::Open(dir_, ids_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Current()->kid(), key->kid());
}

TEST_F(KeyRingTest, AnotherProcessRotatesAndTheRingFollows) {
  auto ring = KeyRing::Open(dir_, ids_);
  ASSERT_TRUE(ring.ok());
  const std::string first = (*ring)->Current()->kid();
  auto rotated = KeyRing::Rotate(dir_, ids_);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ((*ring)->Current()->kid(), *rotated);
  const auto keys = (*ring)->PublicKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, *rotated);
  EXPECT_EQ(keys[1].kid, first);
}

TEST_F(KeyRingTest, RapidRotationsKeepEveryKeyWhoseTokensMayStillLive) {
  auto ring = KeyRing::Open(dir_, ids_);
  ASSERT_TRUE(ring.ok());
  std::string newest;
  for (int i = 0; i < 4; ++i) newest = KeyRing::Rotate(dir_, ids_).value();
  // Five keys made seconds apart: tokens of each may still be live, so all verify.
  EXPECT_EQ(KeyFiles(), 5u);
  EXPECT_EQ(PublishedKeys(**ring), 5u);
  EXPECT_EQ((*ring)->Current()->kid(), newest);
}

TEST_F(KeyRingTest, KeysRetireOnceTheirTokensCanNoLongerLive) {
  auto ring = KeyRing::Open(dir_, ids_);
  ASSERT_TRUE(ring.ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(KeyRing::Rotate(dir_, ids_).ok());
  clock_.Advance(KeyRing::kRetention + 60'000);
  const std::string newest = KeyRing::Rotate(dir_, ids_).value();
  // The newest three stay regardless; the two older ones were replaced long ago.
  EXPECT_EQ(KeyFiles(), KeyRing::kPublishedKeys);
  EXPECT_EQ(PublishedKeys(**ring), KeyRing::kPublishedKeys);
  EXPECT_EQ((*ring)->Current()->kid(), newest);
}

TEST_F(KeyRingTest, SignedTokensVerifyWithThePublishedKey) {
  auto ring = KeyRing::Open(dir_, ids_);
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
