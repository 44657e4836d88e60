#include "governance/phi/validators.hpp"

#include <gtest/gtest.h>

namespace rounds::governance::phi {
namespace {

TEST(PhiValidators, LuhnAcceptsTestCardNumbersAndRejectsOneDigitOff) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("41111a1111111111"));
}

TEST(PhiValidators, CardNumbersNeedLengthNetworkAndLuhn) {
  struct Case {
    const char* text;
    bool valid;
  };
  const Case cases[] = {
      {"4111 1111 1111 1111", true},  {"5555-5555-5555-4444", true},
      {"378282246310005", true},      {"6011111111111117", true},
      {"4111111111111112", false},    {"411111111111", false},         // 12 digits
      {"9111111111111116", false},    // no card network starts with 9
      {"356938035643809", false},     // 15 digits outside Amex: an IMEI, not a card
  };
  for (const Case& c : cases) EXPECT_EQ(IsValidCardNumber(c.text), c.valid) << c.text;
}

TEST(PhiValidators, NpiUsesTheHealthcarePrefixInItsCheckDigit) {
  EXPECT_TRUE(IsValidNpi("1234567893"));   // the CMS example
  EXPECT_FALSE(IsValidNpi("1234567890"));
  EXPECT_FALSE(IsValidNpi("3234567893"));  // must start with 1 or 2
  EXPECT_FALSE(IsValidNpi("123456789"));
}

TEST(PhiValidators, SsnRulesAndTheAdvertisingBlock) {
  EXPECT_TRUE(IsValidSsn("123-45-6789"));
  EXPECT_TRUE(IsValidSsn("987-65-4320"));  // advertising block, used by test data
  EXPECT_TRUE(IsValidSsn("987 65 4329"));
  EXPECT_FALSE(IsValidSsn("000-12-3456"));
  EXPECT_FALSE(IsValidSsn("666-12-3456"));
  EXPECT_FALSE(IsValidSsn("912-12-3456"));  // 9xx outside the block
  EXPECT_FALSE(IsValidSsn("123-00-4567"));
  EXPECT_FALSE(IsValidSsn("123-45-0000"));
  EXPECT_FALSE(IsValidSsn("12-345-678"));
  // More digits than any identifier: rejected, not truncated.
  EXPECT_FALSE(IsValidSsn("123-45-6789 1234 5678 9012 3456"));
  EXPECT_FALSE(IsValidNpi("1234567893 1234567893 1234567893"));
  EXPECT_FALSE(IsValidNanpPhone("617 555 0142 617 555 0142 617"));
}

TEST(PhiValidators, NanpPhoneRules) {
  EXPECT_TRUE(IsValidNanpPhone("(617) 555-0142"));
  EXPECT_TRUE(IsValidNanpPhone("+1 617 555 0142"));
  EXPECT_FALSE(IsValidNanpPhone("117-555-0142"));  // area code starts with 1
  EXPECT_FALSE(IsValidNanpPhone("617-155-0142"));  // exchange starts with 1
  EXPECT_FALSE(IsValidNanpPhone("911-555-0142"));  // N11 service code
  EXPECT_FALSE(IsValidNanpPhone("2-617-555-0142"));
}

TEST(PhiValidators, DeaChecksum) {
  EXPECT_TRUE(IsValidDea("AB1234563"));
  EXPECT_FALSE(IsValidDea("AB1234564"));
  EXPECT_TRUE(IsValidDea("A91234563"));    // 9 for registrants without a last-name initial
  EXPECT_FALSE(IsValidDea("1B1234563"));
}

TEST(PhiValidators, VinCheckDigit) {
  EXPECT_TRUE(IsValidVin("1M8GDM9AXKP042788"));  // the textbook example, check digit X
  EXPECT_TRUE(IsValidVin("1HGCM82633A004352"));
  EXPECT_FALSE(IsValidVin("1HGCM82643A004352"));
  EXPECT_FALSE(IsValidVin("1HGCM8263IA004352"));  // I is not allowed
  EXPECT_EQ(VinCheckCharacter("1M8GDM9A_KP042788"), 'X');
}

TEST(PhiValidators, IpAddresses) {
  EXPECT_TRUE(IsValidIpv4("192.0.2.15"));
  EXPECT_FALSE(IsValidIpv4("192.0.2.256"));
  EXPECT_FALSE(IsValidIpv4("192.0.02.1"));
  EXPECT_FALSE(IsValidIpv4("1.2.3"));
  EXPECT_TRUE(IsValidIpv6("2001:db8::1"));
  EXPECT_TRUE(IsValidIpv6("2001:db8:85a3:0:0:8a2e:370:7334"));
  EXPECT_TRUE(IsValidIpv6("::ffff:192.0.2.1"));
  EXPECT_FALSE(IsValidIpv6("14:32:05"));      // a time
  EXPECT_FALSE(IsValidIpv6("2001:db8::1::2"));
  EXPECT_FALSE(IsValidIpv6("2001:db8:12345::1"));
}

TEST(PhiValidators, MedicareBeneficiaryIdentifier) {
  EXPECT_TRUE(IsValidMbi("1EG4-TE5-MK73"));  // the CMS example
  EXPECT_TRUE(IsValidMbi("1EG4TE5MK73"));
  EXPECT_FALSE(IsValidMbi("1EG4TS5MK73"));   // S is excluded
  EXPECT_FALSE(IsValidMbi("0EG4TE5MK73"));   // first character 1-9
}

TEST(PhiValidators, ImeiAndDates) {
  EXPECT_TRUE(IsValidImei("490154203237518"));
  EXPECT_FALSE(IsValidImei("490154203237517"));
  EXPECT_TRUE(IsValidDate(1962, 3, 14));
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_TRUE(IsValidDate(-1, 2, 29));  // year unknown
  EXPECT_FALSE(IsValidDate(-1, 13, 1));
  EXPECT_FALSE(IsValidDate(-1, 4, 31));
  EXPECT_FALSE(IsValidDate(1850, 1, 1));
}

}  // namespace
}  // namespace rounds::governance::phi
