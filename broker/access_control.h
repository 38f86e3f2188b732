// Users, their tags and their permissions per vhost, as RabbitMQ's internal auth backend
// (rabbit_auth_backend_internal): salted SHA-256 password hashes, configure/write/read regular
// expressions checked on every AMQP operation, and the same texts when access is refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <burrow/status.h>

#include "base/thread_annotations.h"

namespace burrow::storage {
class Store;
}

namespace burrow::broker {

// The three permissions of RabbitMQ's access model.
enum class Permission : uint8_t { kConfigure, kWrite, kRead };
std::string_view permission_name(Permission permission);

inline constexpr std::string_view kSha256Hashing = "rabbit_password_hashing_sha256";
inline constexpr std::string_view kSha512Hashing = "rabbit_password_hashing_sha512";
inline constexpr std::string_view kMd5Hashing = "rabbit_password_hashing_md5";

struct User {
  std::string name;
  // base64(salt(4 bytes) ++ hash(salt ++ password)); empty: no password login.
  std::string password_hash;
  std::string hashing_algorithm = std::string(kSha256Hashing);
  std::vector<std::string> tags;

  bool has_tag(std::string_view tag) const;
};

struct UserPermissions {
  std::string vhost;
  std::string user;
  std::string configure;
  std::string write;
  std::string read;
};

// RabbitMQ's rabbit_password:hash/1 with the SHA-256 module: a random 4-byte salt.
std::string hash_password(std::string_view password);
// The same with a given salt (tests use RabbitMQ's known vectors).
std::string hash_password(std::string_view password, std::string_view salt);
// Whether `password` matches the user's hash under its algorithm (a missing algorithm means
// MD5, as in RabbitMQ's definitions of old). Blank passwords never match.
bool password_matches(const User& user, std::string_view password);

// Thread-safe. Reads (authentication, permission checks) take a shared lock; changes are
// written to the store (when there is one) before they take effect.
class AccessControl {
 public:
  // `store` null: nothing is kept (in-memory brokers).
  explicit AccessControl(storage::Store* store);
  ~AccessControl();

  // Reads the stored users and permissions. Returns whether any user was stored (false on
  // a fresh store: the caller creates the default user).
  Result<bool> load();

  // Creates or replaces a user. Errors: kInvalidArgument for an empty name or an unknown
  // hashing algorithm; the store's.
  Status put_user(User user);
  // Deletes a user and its permissions. Errors: kNotFound.
  Status delete_user(std::string_view name);
  std::optional<User> find_user(std::string_view name) const;
  std::vector<User> users() const;

  // Sets a user's permissions in a vhost. Errors: kInvalidArgument when a pattern is not a
  // valid regular expression or the user does not exist.
  Status set_permissions(UserPermissions permissions);
  // Errors: kNotFound.
  Status clear_permissions(std::string_view vhost, std::string_view user);
  std::vector<UserPermissions> permissions() const;
  std::optional<UserPermissions> find_permissions(std::string_view vhost,
                                                  std::string_view user) const;
  // A vhost was deleted: its permissions go too.
  Status forget_vhost(std::string_view vhost);

  // Checks a login. Errors: kAccessRefused with the reason RabbitMQ logs ("user 'u' - invalid
  // credentials", "user 'guest' can only connect via localhost").
  Status authenticate(std::string_view user, std::string_view password, bool from_loopback,
                      const std::vector<std::string>& loopback_users) const;
  // Errors: kNotAllowed "access to vhost 'v' refused for user 'u'".
  Status check_vhost_access(std::string_view user, std::string_view vhost) const;
  // Whether `user` holds `permission` on the resource. Errors: kAccessRefused "access to
  // queue 'q' in vhost '/' refused for user 'u'" (`kind` is "queue" or "exchange").
  Status check(std::string_view user, std::string_view vhost, Permission permission,
               std::string_view kind, std::string_view name) const;

  // Changes with every user or permission change, so channels can cache granted checks.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

 private:
  struct Compiled;  // the patterns as std::regex (kept out of this widely included header)
  using Key = std::pair<std::string, std::string>;  // (vhost, user)
  static Result<std::shared_ptr<const Compiled>> compile(UserPermissions permissions);
  Status write(std::string key, std::string value, bool erase);

  storage::Store* const store_;
  std::atomic<uint64_t> epoch_{1};
  mutable std::shared_mutex mu_;
  std::map<std::string, User, std::less<>> users_ GUARDED_BY(mu_);
  std::map<Key, std::shared_ptr<const Compiled>> permissions_ GUARDED_BY(mu_);
};

}  // namespace burrow::broker
