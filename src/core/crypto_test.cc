#include "core/crypto.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

namespace zebros::core {
namespace {

// Bytes that exercise every bit pattern position: 0x00, 0xFF and a spread in between.
std::string SampleBytes(std::size_t length) {
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out.push_back(static_cast<char>(i % 3 == 0 ? 0xFF : i % 3 == 1 ? 0x00 : (i * 37 + 11) & 0xFF));
  }
  return out;
}

TEST(Base64UrlTest, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64UrlDecode("Zm9vYg"), "foob");
}

TEST(Base64UrlTest, UsesTheUrlSafeAlphabetWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode("\xFB\xFF"), "-_8");
  EXPECT_EQ(Base64UrlEncode("\xFF\xFF\xFF"), "____");
  EXPECT_EQ(Base64UrlEncode("\xFB\xEF\xBE"), "----");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xFB\xFF");
}

TEST(Base64UrlTest, RoundTripsLengthsZeroToForty) {
  for (std::size_t length = 0; length <= 40; ++length) {
    const std::string data = SampleBytes(length);
    const std::string encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.size(), (length * 4 + 2) / 3) << length;
    for (char c : encoded) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
          << "'" << c << "' at length " << length;
    }
    const auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << length << ": " << encoded;
    EXPECT_EQ(*decoded, data) << length;
  }
}

TEST(Base64UrlTest, RejectsCharactersOutsideTheAlphabet) {
  for (const char* text : {"Zm9v+mFy", "Zm9v/mFy", "Zg==", "Zm8=", "Zm 9v", "Zm9v\n", "Zm9v.",
                           "Zm9v\xC3\xA9", "Zm*v"}) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << '"' << text << '"';
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm9\0", 4)).has_value());
}

TEST(Base64UrlTest, RejectsImpossibleLengths) {
  // One character carries six bits, not a byte.
  for (const char* text : {"Z", "Zm9vZ", "Zm9vYmFyZ"}) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
  }
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  // "f" is "Zg"; "Zh".."Zv" decode to "f" too if the unused low bits are ignored.
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zv").has_value());
  // "fo" is "Zm8"; "Zm9" sets an unused bit.
  EXPECT_FALSE(Base64UrlDecode("Zm9").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm9vYh").has_value());
  // Every string the decoder accepts is the one the encoder writes.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (char a : alphabet) {
    for (char b : alphabet) {
      const std::string text = {'Q', a, b};
      if (auto decoded = Base64UrlDecode(text)) {
        EXPECT_EQ(Base64UrlEncode(*decoded), text);
      }
    }
  }
}

TEST(Sha256Test, RawDigestIsWhatTheHexSpells) {
  // RFC 7636 appendix B: the S256 challenge of this verifier.
  EXPECT_EQ(Base64UrlEncode(Sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(Sha256HexTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Binary input with NULs is hashed whole.
  EXPECT_NE(Sha256Hex(std::string_view("a\0b", 3)), Sha256Hex("a"));
}

TEST(HmacSha256HexTest, Rfc4231Vectors) {
  // Test case 2: a short key.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "Secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));  // prefix
  EXPECT_FALSE(ConstantTimeEquals("secret2", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(RandomBytesTest, ReturnsTheSizeAskedAndDiffers) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomBytes(16));
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace zebros::core
