#include "auth/passwords.h"

#include <gtest/gtest.h>

namespace zebros::auth {
namespace {

class PasswordTest : public ::testing::Test {
 protected:
  PasswordHasher hasher_{PasswordCost::Minimal()};
};

TEST_F(PasswordTest, HashesWithArgon2idAndVerifies) {
  auto hash = hasher_.Hash("correct horse battery");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(hasher_.Verify(*hash, "correct horse battery"));
  EXPECT_FALSE(hasher_.Verify(*hash, "correct horse batterx"));
  EXPECT_FALSE(hasher_.Verify(*hash, ""));
}

TEST_F(PasswordTest, SaltsEveryHash) {
  EXPECT_NE(hasher_.Hash("same password").value(), hasher_.Hash("same password").value());
}

TEST_F(PasswordTest, RefusesTooShortAndTooLongPasswords) {
  auto short_one = hasher_.Hash("1234567");
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().code, core::Code::kValidation);
  EXPECT_EQ(short_one.error().problem_code, "weak_password");
  EXPECT_TRUE(hasher_.Hash("12345678").ok());
  EXPECT_FALSE(hasher_.Hash(std::string(PasswordHasher::kMaxLength + 1, 'x')).ok());
}

TEST_F(PasswordTest, MalformedHashesAndTheDummyNeverMatch) {
  EXPECT_FALSE(hasher_.Verify("", "anything1"));
  EXPECT_FALSE(hasher_.Verify("$argon2id$garbage", "anything1"));
  EXPECT_FALSE(hasher_.Verify(std::string(500, '$'), "anything1"));
  EXPECT_FALSE(hasher_.VerifyDummy("anything1"));
}

TEST_F(PasswordTest, VerifiesHashesMadeAtAnotherCostAndAsksForThemAgain) {
  PasswordHasher stronger(PasswordCost{2, 1u << 20});
  auto hash = stronger.Hash("password-at-another-cost");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hasher_.Verify(*hash, "password-at-another-cost"));
  EXPECT_TRUE(hasher_.NeedsRehash(*hash));
  EXPECT_FALSE(stronger.NeedsRehash(*hash));
  EXPECT_FALSE(hasher_.NeedsRehash(hasher_.Hash("password-at-this-cost").value()));
}

// OWASP's recommended argon2id configuration: 19 MiB, 2 passes.
TEST_F(PasswordTest, TheDefaultCostIsOwaspsArgon2idConfiguration) {
  PasswordHasher standard;
  auto hash = standard.Hash("password-at-the-default-cost");
  ASSERT_TRUE(hash.ok());
  EXPECT_NE(hash->find("$m=19456,t=2,p=1$"), std::string::npos) << *hash;
}

}  // namespace
}  // namespace zebros::auth
