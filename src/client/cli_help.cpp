// `shoal COMMAND --help`: each command's usage, what it prints, and an example.
#include <cstdio>
#include <string>
#include <string_view>

#include "client/cli.h"

namespace shoal::cli {

namespace {

struct CommandHelp {
    const char* command;  // "get", "cluster status", ...
    const char* text;
};

constexpr CommandHelp k_help[] = {
    {"get",
     "usage: shoal get KEY [--raw | --context-only] [--ns NAME] [--r Q] [--pr Q] [--n N] [--timeout-ms T]\n"
     "Reads KEY at r replicas. Prints the value, or every sibling when concurrent writes left\n"
     "several, and the context to write with next. --raw prints the value's bytes alone (exit 3\n"
     "when there are siblings); --context-only prints only the context.\n"
     "Exit: 0 found, 1 not found, 3 siblings with --raw, 4 not enough replicas answered.\n"
     "example:\n"
     "  shoal get cart/alice --r all\n"},
    {"put",
     "usage: shoal put KEY [VALUE] [--context C] [--if-none-match | --if-match C] [--ns NAME]\n"
     "                 [--w Q] [--pw Q] [--dw Q] [--n N] [--ttl-s S] [--timeout-ms T]\n"
     "Writes VALUE (or standard input). With the context of a read it supersedes what that read\n"
     "saw; without one it is concurrent with what is stored. Prints the new context when the\n"
     "write left one value. --if-none-match writes only if nothing is stored; --if-match C only\n"
     "if nothing was written since the read that gave C (exit 6 otherwise).\n"
     "example:\n"
     "  ctx=$(shoal get cart/alice --context-only); shoal put cart/alice 'apple,pear' --context \"$ctx\"\n"},
    {"del",
     "usage: shoal del KEY [--context C | --if-match C] [--ns NAME] [--w Q] [--pw Q] [--n N]\n"
     "Deletes what the context saw; without one, every sibling a read at r finds (exit 1 when\n"
     "nothing was there).\n"
     "example:\n"
     "  shoal del session/9f2c --ns sessions\n"},
    {"set",
     "usage: shoal set add KEY MEMBER... | remove KEY MEMBER... | members KEY | contains KEY MEMBER\n"
     "                 --ns NAME [--r Q] [--w Q] [--timeout-ms T]\n"
     "An add-wins set: concurrent adds and removes merge, and a remove takes only what a read saw.\n"
     "`remove` reads first and removes the members named that the read found (exit 1 when none\n"
     "was). `members` prints one per line (exit 1 when empty); `contains` prints yes or no (exit\n"
     "0 or 1). NAME is a namespace made with --datatype set.\n"
     "example:\n"
     "  shoal ns create carts --datatype set && shoal set add alice apple pear --ns carts\n"},
    {"counter",
     "usage: shoal counter incr KEY [N] | decr KEY [N] | get KEY  --ns NAME [--r Q] [--w Q]\n"
     "A counter that merges increments from every replica (N: 1 and up, default 1). An increment\n"
     "that is retried after a timeout may count twice.\n"
     "example:\n"
     "  shoal ns create hits --datatype counter && shoal counter incr home --ns hits\n"},
    {"map",
     "usage: shoal map set KEY FIELD VALUE | incr KEY FIELD [N] | enable|disable KEY FIELD... |\n"
     "                 del KEY FIELD... | get KEY [FIELD]  --ns NAME [--r Q] [--w Q]\n"
     "A map of fields: registers (set, del: the latest write wins), counters (incr) and flags\n"
     "(enable, disable: an enable made at the same time as a disable wins). `get` prints\n"
     "FIELD's value (a flag: on/off), or every field as NAME: VALUE (exit 1 when there is none).\n"
     "example:\n"
     "  shoal ns create profiles --datatype map && shoal map set alice email a@example.org --ns profiles\n"},
    {"ns",
     "usage: shoal ns list | show NAME | create NAME [PROPS] | set NAME PROPS\n"
     "Namespaces: groups of keys with their own request defaults and conflict rules, kept in\n"
     "the gossiped cluster view. PROPS: --n N, --r Q, --w Q, --pr Q, --pw Q (Q: a number, one,\n"
     "quorum or all), --conflict dvv|lww, --max-siblings N, --ttl-s S. `set` changes only the\n"
     "properties given. Exit: 1 no such namespace, 2 a bad property, 6 it exists already.\n"
     "examples:\n"
     "  shoal ns create sessions --conflict lww --ttl-s 1800\n"
     "  shoal put --ns sessions 9f2c '{\"user\":\"alice\"}'\n"},
    {"cluster",
     "usage: shoal cluster status | ring | wait [--timeout-s S] | join NODE SEED | leave ID | remove ID\n"
     "  status   members, status, who is up, partitions owned and kept, keys and disk per node\n"
     "  ring     partition -> owner, next owner while moving, replicas\n"
     "  wait     until every node agrees on a settled view (exit 4 on timeout)\n"
     "  join     an empty NODE (HTTP address or dev id) joins SEED's cluster\n"
     "  leave    member ID hands off its partitions, then exits\n"
     "  remove   forget a dead member; the survivors refill its partitions (a member that still\n"
     "           looks up is refused unless --force)\n"
     "example:\n"
     "  shoal dev add --standalone && shoal cluster join 4 1 && shoal cluster wait\n"},
    {"dev",
     "usage: shoal dev up N [--base-port P] | add [--standalone] | down | status |\n"
     "                 kill NODE | stop NODE | cont NODE | restart NODE\n"
     "A local cluster of shoald processes under --dir (default ./.shoal-dev). Node i listens on\n"
     "P+10i+1 (peer), +2 (client), +3 (HTTP); P defaults to 7100. kill is SIGKILL, stop and\n"
     "cont are SIGSTOP and SIGCONT: the chaos a test wants.\n"
     "example:\n"
     "  shoal dev up 3 && shoal dev kill 2 && shoal put k v && shoal dev restart 2\n"},
};

}  // namespace

bool print_command_help(const std::vector<std::string>& positional) {
    if (positional.empty()) return false;
    for (const CommandHelp& h : k_help) {
        if (positional[0] == h.command) {
            std::fputs(h.text, stdout);
            return true;
        }
    }
    return false;
}

}  // namespace shoal::cli
