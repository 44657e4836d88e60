// The lists are drawn from the most frequent entries of public breach-derived password lists
// (the long tail of the "top 10 million" style compilations), keeping what a 12-character rule
// lets through, plus the words people pad to reach such a rule.
#include "domain/password_lists.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace rounds::domain::passwords {
namespace {

constexpr std::string_view kCommonLong[] = {
    // Digits
    "000000000000", "111111111111", "222222222222", "333333333333", "444444444444", "555555555555",
    "666666666666", "777777777777", "888888888888", "999999999999", "123456789012", "1234567890123",
    "12345678901234", "123456789012345", "1234567890123456", "123456789123", "1234567891011",
    "12345678910111213", "123456789101", "123412341234", "123123123123", "121212121212",
    "112233445566", "111222333444", "123456123456", "147258369147", "159753159753", "789456123789",
    "987654321987", "098765432109", "0987654321098", "963852741963", "135792468013", "246813579246",
    "123456654321", "1234554321123", "100200300400", "102030405060", "010203040506", "123321123321",
    "147852369123", "123654789123", "741852963741", "852456852456", "159357159357", "112112112112",
    "201020102010", "199019901990", "123456789987654321", "1234512345123",
    // Keyboard walks and simple runs
    "qwertyuiop12", "qwertyuiop123", "qwertyuiop1234", "qwertyuiopasdf", "qwertyuiopasdfghjkl",
    "qwertyuiopasdfghjklzxcvbnm", "qwerty123456", "qwerty1234567", "qwerty12345678", "qwertyqwerty",
    "qwertyqwerty1", "qwerty123qwerty", "1234567890qwerty", "1234qwerasdfzxcv", "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u", "1q2w3e4r5t6y7u8i", "q1w2e3r4t5y6",
    "zaq12wsxcde3", "zaq1zaq1zaq1", "zaq1xsw2cde3", "qazwsxedcrfv", "qazwsxedcrfvtgb", "asdfghjkl123",
    "asdfghjklqwerty", "asdfasdfasdf", "asdf1234asdf", "zxcvbnm123456", "zxcvbnmasdfghjkl",
    "zxcvbnm12345", "a1b2c3d4e5f6", "abc123abc123", "abcdefghijkl", "abcdefghijklm",
    "abcdefghijklmnop", "abcdefghijklmnopqrstuvwxyz", "abcd1234abcd", "abcdefg12345", "abc123456789",
    "abcd12345678", "1234567890abc", "1234567890-=", "!@#$%^&*()_+", "1q2w3e4r5t6y7u8i9o0p",
    "qwertyuiop[]", "poiuytrewq123", "mnbvcxzlkjhgfdsa", "qweasdzxc123", "qweasdzxcqwe", "qwe123qwe123",
    "aaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "abcabcabcabc", "asdasdasdasd", "qweqweqweqwe", "zzzzzzzzzzzz",
    // Words padded with digits or symbols
    "password1234", "password12345", "password123456", "password1234567", "password123!",
    "password2020", "password2021", "password2022", "password2023", "password2024", "password2025",
    "password2026", "passwordpassword", "password!234", "mypassword123", "mypassword1234",
    "thisismypassword", "passw0rd1234", "p@ssw0rd1234", "p@ssword1234", "p@$$w0rd1234",
    "passwort1234", "motdepasse123", "changeme1234", "changeme12345", "changemenow1", "letmein12345",
    "letmein123456", "letmeinplease", "letmeinnow123", "welcome12345", "welcome123456", "welcome1234!",
    "welcomewelcome", "administrator", "administrator1", "administrator123", "adminadmin123",
    "admin1234567", "admin123456789", "adminpassword", "rootpassword", "superadmin123",
    "iloveyou1234", "iloveyou12345", "iloveyou123456", "iloveyouiloveyou", "iloveyoubaby",
    "iloveyoumore", "iloveyouforever", "iloveyousomuch", "ilovemyfamily", "ilovemymother",
    "ilovemymom123", "ilovemyself1", "ilovejesus123", "ilovegod1234", "iloveyou2024", "jesuschrist1",
    "jesusislord1", "jesuslovesme", "godisgood123", "blessed12345", "loveyouforever", "lovelovelove",
    "lovelylovely", "babygirl1234", "sweetheart12", "sweetheart123", "football1234", "football12345",
    "baseball1234", "baseball12345", "basketball12", "basketball123", "soccer123456", "hockey123456",
    "softball1234", "sunshine1234", "sunshine12345", "princess1234", "princess12345", "monkey123456",
    "monkeymonkey", "dragon123456", "dragondragon", "starwars1234", "superman1234", "superman12345",
    "batman123456", "spiderman123", "pokemon12345", "naruto123456", "michael12345", "jennifer1234",
    "jessica12345", "charlie12345", "trustno12345", "trustno1trustno1", "whatever1234", "computer1234",
    "internet1234", "freedom12345", "shadow123456", "master123456", "mastermaster", "killer123456",
    "hunter123456", "thunder12345", "chocolate123", "chocolate1234", "butterfly123", "happybirthday",
    "happybirthday1", "merrychristmas", "christmas123", "thequickbrownfox", "blink182blink182",
    "manchesterunited", "liverpoolfc1", "chelseafc123", "arsenal12345", "newyork12345", "bubbles12345",
    "summer2020!!", "summer2021!!", "summer2022!!", "summer2023!!", "summer2024!!", "summer2025!!",
    "summer2026!!", "winter2020!!", "winter2021!!", "winter2022!!", "winter2023!!", "winter2024!!",
    "winter2025!!", "winter2026!!", "spring2024!!", "spring2025!!", "spring2026!!", "autumn2024!!",
    "autumn2025!!", "january2024!", "january2025!", "january2026!", "hospital1234", "hospital2024",
    "hospital2025", "hospital2026", "nurse1234567", "nurse12345678", "doctor123456", "doctor1234567",
    "healthcare123", "healthcare2024", "medicine1234", "patient12345", "welcome2hospital",
    "qwerty123456!", "password12!@", "password@123", "password#123", "password!123", "pa55word1234",
    "pa$$word1234", "p4ssw0rd1234", "passw0rd!234", "p@ssw0rd123!", "1password1234", "123password123",
    "abc123password", "password1password", "secret123456", "secretsecret", "security1234",
    "computer12345", "samsung12345", "microsoft123", "google123456", "windows12345", "linux1234567",
    "internet12345", "login1234567", "guest1234567", "testtesttest", "test12345678", "testing12345",
    "default12345", "access123456", "letmein!letmein", "iloveyou!!!!", "loveyou12345", "myspace12345",
    "facebook1234", "facebook12345", "instagram123", "twitter12345", "youtube12345", "pokemon123456",
    "minecraft123", "minecraft1234", "fortnite1234", "playstation1", "playstation2", "playstation3",
    "playstation4", "playstation5", "xbox36012345", "nintendo1234", "harrypotter1", "harrypotter12",
    "lordoftherings", "gameofthrones", "starwars12345", "skywalker123", "iamthebest123",
    "nopassword123", "mypassword12", "newpassword1", "newpassword123", "oldpassword1", "temppassword",
    "temporary123", "changeit1234", "welcome1welcome", "qwerty!@#$%^", "1qazxsw23edc", "1qazxsw2!QAZ",
};

constexpr std::string_view kBaseWords[] = {
    "password", "passwd", "pass", "passwort", "motdepasse", "contrasena", "senha", "qwerty",
    "qwertz", "azerty", "qwertyuiop", "asdf", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm", "qazwsx",
    "abc", "abcd", "abcdef", "abcdefg", "letmein", "welcome", "admin", "administrator", "root",
    "login", "master", "monkey", "dragon", "football", "baseball", "basketball", "soccer", "hockey",
    "softball", "iloveyou", "iloveu", "loveyou", "love", "lovely", "sunshine", "princess", "shadow",
    "superman", "batman", "spiderman", "michael", "jordan", "hunter", "charlie", "trustno",
    "trustnoone", "whatever", "freedom", "ninja", "mustang", "access", "flower", "hello",
    "helloworld", "pokemon", "starwars", "computer", "internet", "secret", "secure", "security",
    "changeme", "changeit", "default", "guest", "test", "tester", "testing", "temp", "temporary",
    "summer", "winter", "spring", "autumn", "january", "february", "march", "april", "june", "july",
    "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "hospital", "nurse", "nursing", "doctor", "health",
    "healthcare", "medical", "medicine", "patient", "clinic", "rounds", "cookie", "cheese",
    "chocolate", "banana", "orange", "apple", "pepper", "ginger", "buster", "tigger", "tiger", "lion",
    "bailey", "maggie", "daisy", "buddy", "lucky", "angel", "angels", "baby", "babygirl",
    "sweetheart", "honey", "jesus", "jesuschrist", "god", "blessed", "faith", "matrix", "killer",
    "hacker", "thunder", "silver", "golden", "diamond", "jasmine", "jessica", "jennifer", "ashley",
    "amanda", "nicole", "daniel", "thomas", "robert", "andrew", "joshua", "matthew", "anthony",
    "william", "david", "james", "john", "richard", "george", "harley", "ranger", "yankees",
    "cowboys", "lakers", "arsenal", "chelsea", "liverpool", "manchester", "barcelona", "london",
    "paris", "newyork", "america", "canada", "england", "samsung", "google", "microsoft", "windows",
    "linux", "purple", "yellow", "blue", "green", "black", "white", "pink", "family", "friends",
    "forever", "happy", "smile", "music", "guitar", "butterfly", "princesa", "tequiero", "hallo",
    "facebook", "instagram", "twitter", "youtube", "myspace", "minecraft", "fortnite", "playstation",
    "nintendo", "harrypotter", "naruto", "merlin", "phoenix", "qwe", "asd", "zxc",
    "welcomehome", "letmeinplease", "nopassword", "mypassword", "newpassword", "oldpassword",
    "iloveyoubaby", "happybirthday", "christmas", "merrychristmas", "bubbles", "whatsup", "cheers",
};

constexpr std::string_view kWalks[] = {
    "1234567890qwertyuiopasdfghjklzxcvbnm", "qwertyuiop1234567890", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp", "zaq12wsxcde34rfvbgt56yhnmju78ik,lo90p", "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0", "a1b2c3d4e5f6g7h8i9j0", "abcdefghijklmnopqrstuvwxyz",
    "01234567890123456789", "1234567890-=", "!@#$%^&*()_+", "qweasdzxcrtyfghvbnuiojklm",
};

}  // namespace

bool IsCommonLongPassword(std::string_view lower) {
  return std::find(std::begin(kCommonLong), std::end(kCommonLong), lower) != std::end(kCommonLong);
}

bool IsCommonBaseWord(std::string_view core) {
  return std::find(std::begin(kBaseWords), std::end(kBaseWords), core) != std::end(kBaseWords);
}

bool IsKeyboardOrAlphabetWalk(std::string_view lower) {
  for (std::string_view walk : kWalks) {
    if (walk.find(lower) != std::string_view::npos) return true;
    std::string reversed(walk.rbegin(), walk.rend());
    if (reversed.find(lower) != std::string::npos) return true;
  }
  return false;
}

}  // namespace rounds::domain::passwords
