// Checksums and validity rules for identifiers (pure functions, thread-safe).
//
// Each takes the candidate text as matched (separators allowed where the identifier allows
// them) and says whether it can be a real identifier of that kind.
#pragma once

#include <string>
#include <string_view>

namespace rounds::governance::phi {

// The ASCII digits of `text`, in order (separators dropped).
std::string DigitsOf(std::string_view text);

// Luhn (mod 10) over a digit string; false if it contains anything but digits or is empty.
bool LuhnValid(std::string_view digits);

// Payment card: 13-19 digits, Luhn, and a leading digit of a card network (2-6); 15 digits only
// for the American Express ranges 34/37.
bool IsValidCardNumber(std::string_view text);

// NPI: 10 digits starting with 1 or 2, Luhn over "80840" + the digits.
bool IsValidNpi(std::string_view text);

// SSN: 9 digits; area not 000, 666 or 9xx, group not 00, serial not 0000. The advertising block
// 987-65-4320..4329 counts as an SSN so synthetic test data can use it.
bool IsValidSsn(std::string_view text);

// NANP telephone number: 10 digits, or 11 starting with 1; area code and exchange start with
// 2-9 and the area code is not an N11 service code.
bool IsValidNanpPhone(std::string_view text);

// DEA registration: two letters + 7 digits; (d1+d3+d5) + 2*(d2+d4+d6) ends in d7.
bool IsValidDea(std::string_view text);

// VIN: 17 characters without I, O, Q, check digit (position 9) by the ISO 3779 weights; must
// hold both letters and digits.
bool IsValidVin(std::string_view text);
// The check character a VIN with these other 16 characters must carry ('0'-'9' or 'X').
char VinCheckCharacter(std::string_view vin17);

// Dotted IPv4 with four octets 0-255 and no leading zeros.
bool IsValidIpv4(std::string_view text);
// IPv6 text form (RFC 4291 section 2.2), including "::" compression and a trailing IPv4.
bool IsValidIpv6(std::string_view text);

// Medicare Beneficiary Identifier (11 characters, dashes allowed): positions 1,4,7,10,11
// numeric (1 is 1-9), 2,5,8,9 alphabetic, 3 and 6 alphanumeric; letters exclude S,L,O,I,B,Z.
bool IsValidMbi(std::string_view text);

// IMEI: 15 digits with a Luhn check digit.
bool IsValidImei(std::string_view text);

// Calendar sanity: month 1-12, day within the month (29 Feb only in leap years when the year
// is known), year 1900-2099 when four digits are given. year < 0 means unknown.
bool IsValidDate(int year, int month, int day);

}  // namespace rounds::governance::phi
