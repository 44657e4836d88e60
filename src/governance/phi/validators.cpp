#include "governance/phi/validators.hpp"

#include <array>
#include <cctype>

namespace rounds::governance::phi {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// The characters of `text` other than separators, upper-cased.
std::string AlnumOf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (IsDigit(c) || IsAlpha(c)) out.push_back(Upper(c));
  }
  return out;
}

}  // namespace

std::string DigitsOf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (IsDigit(c)) out.push_back(c);
  }
  return out;
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!IsDigit(*it)) return false;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IsValidCardNumber(std::string_view text) {
  const std::string digits = DigitsOf(text);
  if (digits.size() < 13 || digits.size() > 19) return false;
  if (digits[0] < '2' || digits[0] > '6') return false;
  if (digits.size() == 15 && !(digits[0] == '3' && (digits[1] == '4' || digits[1] == '7'))) {
    return false;  // 15 digits outside Amex is an IMEI or something else
  }
  return LuhnValid(digits);
}

namespace {

// The digits of a short identifier, without allocating: the scanner validates candidates of
// every digit run, so these checks sit on the hot path.
class ShortDigits {
 public:
  explicit ShortDigits(std::string_view text) {
    for (char c : text) {
      if (!IsDigit(c)) continue;
      if (size_ == buffer_.size()) {
        size_ = buffer_.size() + 1;  // too long for any identifier checked here
        return;
      }
      buffer_[size_++] = c;
    }
  }
  std::string_view view() const {
    return size_ > buffer_.size() ? std::string_view() : std::string_view(buffer_.data(), size_);
  }
  std::size_t size() const { return size_; }

 private:
  std::array<char, 20> buffer_{};
  std::size_t size_ = 0;
};

int ValueOf(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

bool IsValidNpi(std::string_view text) {
  const ShortDigits digits(text);
  const std::string_view d = digits.view();
  if (d.size() != 10 || (d[0] != '1' && d[0] != '2')) return false;
  // The Luhn check over the digits with the "80840" health-industry prefix: the prefix adds a
  // constant 24 to the sum.
  int sum = 24;
  bool twice = false;
  for (auto it = d.rbegin(); it != d.rend(); ++it) {
    int v = *it - '0';
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IsValidSsn(std::string_view text) {
  const ShortDigits digits(text);
  const std::string_view d = digits.view();
  if (d.size() != 9) return false;
  if (d.substr(0, 8) == "98765432") return true;  // advertising block, used by test data
  const int area = ValueOf(d.substr(0, 3));
  const int group = ValueOf(d.substr(3, 2));
  const int serial = ValueOf(d.substr(5, 4));
  if (area == 0 || area == 666 || area >= 900) return false;
  return group != 0 && serial != 0;
}

bool IsValidNanpPhone(std::string_view text) {
  const ShortDigits digits(text);
  std::string_view d = digits.view();
  if (d.size() == 11) {
    if (d[0] != '1') return false;
    d.remove_prefix(1);
  }
  if (d.size() != 10) return false;
  if (d[0] < '2' || d[3] < '2') return false;
  if (d[1] == '1' && d[2] == '1') return false;  // N11 service codes
  return true;
}

bool IsValidDea(std::string_view text) {
  const std::string s = AlnumOf(text);
  if (s.size() != 9 || !IsAlpha(s[0]) || !(IsAlpha(s[1]) || s[1] == '9')) return false;
  for (std::size_t i = 2; i < 9; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  auto d = [&](int i) { return s[static_cast<std::size_t>(i + 1)] - '0'; };
  const int sum = d(1) + d(3) + d(5) + 2 * (d(2) + d(4) + d(6));
  return sum % 10 == d(7);
}

namespace {
int VinValue(char c) {
  if (IsDigit(c)) return c - '0';
  static constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";
  static constexpr std::array<int, 23> kValues = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
                                                  5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto pos = kLetters.find(Upper(c));
  return pos == std::string_view::npos ? -1 : kValues[pos];
}
}  // namespace

char VinCheckCharacter(std::string_view vin17) {
  static constexpr std::array<int, 17> kWeights = {8, 7, 6, 5, 4, 3, 2, 10, 0,
                                                   9, 8, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (std::size_t i = 0; i < 17 && i < vin17.size(); ++i) {
    if (i == 8) continue;
    const int v = VinValue(vin17[i]);
    if (v < 0) return '?';
    sum += v * kWeights[i];
  }
  const int rem = sum % 11;
  return rem == 10 ? 'X' : static_cast<char>('0' + rem);
}

bool IsValidVin(std::string_view text) {
  if (text.size() != 17) return false;
  bool has_digit = false;
  bool has_alpha = false;
  for (char c : text) {
    if (IsDigit(c)) {
      has_digit = true;
    } else if (IsAlpha(c)) {
      const char u = Upper(c);
      if (u == 'I' || u == 'O' || u == 'Q') return false;
      has_alpha = true;
    } else {
      return false;
    }
  }
  return has_digit && has_alpha && VinCheckCharacter(text) == Upper(text[8]);
}

bool IsValidIpv4(std::string_view text) {
  int octets = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    int value = 0;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3) value = value * 10 + (text[i++] - '0');
    const std::size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && text[start] == '0')) return false;
    ++octets;
    if (i == text.size()) break;
    if (text[i] != '.' || octets == 4) return false;
    ++i;
  }
  return octets == 4;
}

bool IsValidIpv6(std::string_view text) {
  if (text.size() < 2) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == text.size()) return true;
  } else if (text[0] == ':') {
    return false;
  }
  while (i < text.size()) {
    // An embedded IPv4 ends the address.
    const std::size_t next_colon = text.find(':', i);
    const std::string_view rest = text.substr(i, next_colon == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : next_colon - i);
    if (next_colon == std::string_view::npos && rest.find('.') != std::string_view::npos) {
      if (!IsValidIpv4(rest)) return false;
      groups += 2;
      i = text.size();
      break;
    }
    std::size_t len = 0;
    while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++len;
    }
    if (len == 0 || len > 4) return false;
    ++groups;
    if (i == text.size()) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == text.size()) break;
    } else if (i == text.size()) {
      return false;  // trailing single colon
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool IsValidMbi(std::string_view text) {
  const std::string s = AlnumOf(text);
  if (s.size() != 11) return false;
  auto letter = [](char c) {
    return IsAlpha(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z';
  };
  auto alnum = [&](char c) { return IsDigit(c) || letter(c); };
  return s[0] >= '1' && s[0] <= '9' && letter(s[1]) && alnum(s[2]) && IsDigit(s[3]) &&
         letter(s[4]) && alnum(s[5]) && IsDigit(s[6]) && letter(s[7]) && letter(s[8]) &&
         IsDigit(s[9]) && IsDigit(s[10]);
}

bool IsValidImei(std::string_view text) {
  const std::string digits = DigitsOf(text);
  return digits.size() == 15 && LuhnValid(digits);
}

bool IsValidDate(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1) return false;
  if (year >= 0 && (year < 1900 || year > 2099)) return false;
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[static_cast<std::size_t>(month - 1)]) return false;
  if (month == 2 && day == 29 && year >= 0) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap;
  }
  return true;
}

}  // namespace rounds::governance::phi
