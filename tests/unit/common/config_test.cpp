#include "holomush/common/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace holomush::common {
namespace {

std::vector<SettingSpec> Specs() {
  return {
      {.name = "ops-addr", .kind = SettingKind::kAddress, .default_value = "0.0.0.0:9100"},
      {.name = "log-format",
       .kind = SettingKind::kChoice,
       .default_value = "json",
       .choices = {"json", "text"}},
      {.name = "pool-size", .kind = SettingKind::kInt, .default_value = "8", .min = 1, .max = 64},
      {.name = "grace", .kind = SettingKind::kDuration, .default_value = "15s"},
      {.name = "auto-migrate", .kind = SettingKind::kBool, .default_value = "true"},
      {.name = "database-url",
       .kind = SettingKind::kString,
       .env = "DATABASE_URL",
       .required = true,
       .secret = true},
  };
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string WriteYaml(const std::string& content) {
  auto path = std::filesystem::temp_directory_path() /
              ("holomush-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << content;
  return path.string();
}

std::string LoadError(const std::map<std::string, std::string>& flags,
                      const std::map<std::string, std::string>& env,
                      std::optional<std::string> yaml = std::nullopt) {
  try {
    Config::Load(Specs(), flags, Env(env), yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigTest, DefaultsApplyWhenNothingIsGiven) {
  auto c = Config::Load(Specs(), {}, Env({{"DATABASE_URL", "postgres://x"}}), std::nullopt);
  EXPECT_EQ(c.Address("ops-addr").ToString(), "0.0.0.0:9100");
  EXPECT_EQ(c.Int("pool-size"), 8);
  EXPECT_EQ(c.Duration("grace"), std::chrono::seconds(15));
  EXPECT_TRUE(c.Bool("auto-migrate"));
  EXPECT_EQ(c.Source("ops-addr"), "default");
}

TEST(ConfigTest, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  auto yaml = WriteYaml("ops-addr: 127.0.0.1:1111\npool-size: 3\nlog-format: text\n");
  auto env = Env({{"HOLOMUSH_OPS_ADDR", "127.0.0.1:2222"},
                  {"HOLOMUSH_POOL_SIZE", "4"},
                  {"DATABASE_URL", "postgres://env"}});
  auto c = Config::Load(Specs(), {{"ops-addr", "127.0.0.1:3333"}}, env, yaml);
  EXPECT_EQ(c.Address("ops-addr").port, 3333);
  EXPECT_EQ(c.Source("ops-addr"), "flag");
  EXPECT_EQ(c.Int("pool-size"), 4);
  EXPECT_EQ(c.Source("pool-size"), "environment");
  EXPECT_EQ(c.String("log-format"), "text");
  EXPECT_EQ(c.Source("log-format"), "config file");
  EXPECT_EQ(c.Duration("grace"), std::chrono::seconds(15));
  EXPECT_EQ(c.String("database-url"), "postgres://env");
  std::filesystem::remove(yaml);
}

TEST(ConfigTest, BadAddressNamesFlagValueAndAllowed) {
  EXPECT_EQ(LoadError({{"ops-addr", "nonsense"}}, {{"DATABASE_URL", "x"}}),
            "invalid setting --ops-addr: \"nonsense\"; expected host:port with a port from 0 to "
            "65535");
}

TEST(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  EXPECT_EQ(LoadError({}, {{"DATABASE_URL", "x"}, {"HOLOMUSH_POOL_SIZE", "100"}}),
            "invalid setting HOLOMUSH_POOL_SIZE: \"100\"; expected an integer from 1 to 64");
}

TEST(ConfigTest, BadChoiceListsTheChoices) {
  EXPECT_EQ(LoadError({{"log-format", "xml"}}, {{"DATABASE_URL", "x"}}),
            "invalid setting --log-format: \"xml\"; expected one of json, text");
}

TEST(ConfigTest, BadDurationAndBool) {
  EXPECT_EQ(LoadError({{"grace", "soon"}}, {{"DATABASE_URL", "x"}}),
            "invalid setting --grace: \"soon\"; expected a duration such as 500ms, 30s, 5m or 2h");
  EXPECT_EQ(LoadError({{"auto-migrate", "perhaps"}}, {{"DATABASE_URL", "x"}}),
            "invalid setting --auto-migrate: \"perhaps\"; expected true or false");
}

TEST(ConfigTest, MissingRequiredSettingSaysHowToSetIt) {
  EXPECT_EQ(LoadError({}, {}), "missing setting database-url: set --database-url or DATABASE_URL");
}

TEST(ConfigTest, BadValueInFileNamesTheFile) {
  auto yaml = WriteYaml("pool-size: zero\n");
  EXPECT_EQ(LoadError({}, {{"DATABASE_URL", "x"}}, yaml),
            "invalid setting pool-size (config file): \"zero\"; expected an integer from 1 to 64");
  std::filesystem::remove(yaml);
}

TEST(ConfigTest, UnknownKeyInFileIsRefused) {
  auto yaml = WriteYaml("pool_sise: 3\n");
  EXPECT_EQ(LoadError({}, {{"DATABASE_URL", "x"}}, yaml),
            "invalid setting pool_sise (config file): unknown setting");
  std::filesystem::remove(yaml);
}

TEST(ConfigTest, UnreadableAndMalformedFiles) {
  EXPECT_EQ(LoadError({}, {{"DATABASE_URL", "x"}}, "/nonexistent/holomush.yaml"),
            "invalid setting --config: cannot read \"/nonexistent/holomush.yaml\"; expected a "
            "readable YAML file");
  auto yaml = WriteYaml("- a\n- b\n");
  EXPECT_NE(LoadError({}, {{"DATABASE_URL", "x"}}, yaml).find("must be a mapping"),
            std::string::npos);
  std::filesystem::remove(yaml);
}

TEST(ConfigTest, SecretValuesAreNotEchoed) {
  std::vector<SettingSpec> specs = {
      {.name = "token", .kind = SettingKind::kChoice, .choices = {"a"}, .secret = true}};
  try {
    Config::Load(specs, {{"token", "hunter2"}}, Env({}), std::nullopt);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
}

TEST(ParseHostPortTest, AcceptsCommonForms) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:0")->port, 0);
  EXPECT_EQ(ParseHostPort(":4201")->host, "0.0.0.0");
  EXPECT_EQ(ParseHostPort("[::1]:9000")->host, "::1");
  EXPECT_FALSE(ParseHostPort("host:65536"));
  EXPECT_FALSE(ParseHostPort("host"));
  EXPECT_FALSE(ParseHostPort("a:b:c"));
}

}  // namespace
}  // namespace holomush::common
