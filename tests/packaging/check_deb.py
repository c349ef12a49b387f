#!/usr/bin/env python3
"""The Debian package, built with CPack and checked the way dpkg sees it:

    check_deb.py contents CPACK CPACK_CONFIG OUT_DIR VERSION SOURCE_DIR
    check_deb.py install OUT_DIR

contents: builds the package into OUT_DIR, then checks its control fields (name, version,
architecture, library dependencies from dpkg-shlibdeps), its conffiles, its maintainer scripts
(present, executable, `sh -n`), every file with its mode and owner and nothing else, and -- from
the files extracted into a scratch folder -- that `boxmon config check` accepts the shipped
/etc/boxmon/boxmon.toml, the man pages are gzip'd roff, the bash completion parses and the
units verify and stay within exposure 2.0 (check_units.py). Skipped (77) without dpkg-deb.

install: installs the package built by `contents` with dpkg -i, checks what the maintainer
scripts did (the boxmon user, /var/lib/boxmon 0700, the configuration root:boxmon 0640, the
daemon enabled), runs `boxmon config check` from the installed files as root and as the boxmon
user, reinstalls over a changed configuration (kept), then purges and checks that the files,
the state and the enablement are gone. It changes the machine, so it runs only as root, with
dpkg, with BOXMON_TEST_DPKG_INSTALL=1 (scripts/test.sh sets it; CI machines are disposable),
and when no boxmon package is installed already; otherwise it is skipped (77) saying why."""
import fcntl
import glob
import grp
import gzip
import os
import pwd
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_units  # noqa: E402

SKIP = 77
# path in the package -> mode; every file must be listed, owned by root:root.
EXPECTED_FILES = {
    "./usr/bin/boxmon": "-rwxr-xr-x",
    "./usr/lib/boxmon/boxmon-http.so": "-rw-r--r--",
    "./etc/boxmon/boxmon.toml": "-rw-r-----",
    "./usr/lib/systemd/system/boxmon.service": "-rw-r--r--",
    "./usr/lib/systemd/system/boxmon-sample.service": "-rw-r--r--",
    "./usr/lib/systemd/system/boxmon-sample.timer": "-rw-r--r--",
    "./usr/lib/sysusers.d/boxmon.conf": "-rw-r--r--",
    "./usr/lib/tmpfiles.d/boxmon.conf": "-rw-r--r--",
    "./usr/share/man/man1/boxmon.1.gz": "-rw-r--r--",
    "./usr/share/man/man5/boxmon.toml.5.gz": "-rw-r--r--",
    "./usr/share/bash-completion/completions/boxmon": "-rw-r--r--",
    "./usr/share/zsh/vendor-completions/_boxmon": "-rw-r--r--",
}
# Linked (found by dpkg-shlibdeps) and loaded with dlopen (libcurl4 and libssl3, declared by hand);
# libstdc++6 for the endpoint module (the executable carries its own runtime).
LIBRARIES = ["libsqlite3-0", "libcurl4", "libssl3", "libcpp-httplib0.11", "libstdc++6"]
# Compiled into boxmon or used header-only (cmake/BoxmonDependencies.cmake): a dependency on
# them is a regression.
NOT_LIBRARIES = ["libfmt9", "libspdlog1", "libtomlplusplus3", "libhowardhinnant-date"]
SCRIPTS = ["postinst", "prerm", "postrm"]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)


def find_deb(out_dir):
    debs = sorted(glob.glob(os.path.join(out_dir, "boxmon_*.deb")))
    return debs[-1] if debs else None


def contents(cpack, cpack_config, out_dir, version, source):
    if not shutil.which("dpkg-deb"):
        print("skipped: dpkg-deb is not installed (Debian package dpkg)")
        return SKIP
    if not shutil.which("dpkg-shlibdeps"):
        print("skipped: dpkg-shlibdeps is not installed (Debian package dpkg-dev)")
        return SKIP
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    r = run([cpack, "-G", "DEB", "--config", cpack_config, "-B", out_dir])
    deb = find_deb(out_dir)
    if r.returncode != 0 or not deb:
        print(f"cpack failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
        return 1
    print(f"built {os.path.basename(deb)} ({os.path.getsize(deb) // 1024} KiB)")
    problems = []

    def field(name):
        return run(["dpkg-deb", "-f", deb, name]).stdout.strip()

    if field("Package") != "boxmon":
        problems.append(f"Package is \"{field('Package')}\", not boxmon")
    if field("Version") != version:
        problems.append(f"Version is \"{field('Version')}\", not the project's {version}")
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    if field("Architecture") != arch:
        problems.append(f"Architecture is \"{field('Architecture')}\", not {arch}")
    depends = field("Depends")
    for lib in LIBRARIES:
        if lib not in depends:
            problems.append(f"Depends lacks {lib}: {depends}")
    for lib in NOT_LIBRARIES:
        if lib in depends:
            problems.append(f"Depends names {lib}, which boxmon carries itself: {depends}")

    with tempfile.TemporaryDirectory() as tmp:
        control = os.path.join(tmp, "control")
        r = run(["dpkg-deb", "-e", deb, control])
        if r.returncode != 0:
            problems.append(f"dpkg-deb -e: {r.stderr}")
        else:
            with open(os.path.join(control, "conffiles"), encoding="utf-8") as f:
                if f.read().split() != ["/etc/boxmon/boxmon.toml"]:
                    problems.append("conffiles must list exactly /etc/boxmon/boxmon.toml")
            for s in SCRIPTS:
                p = os.path.join(control, s)
                if not os.path.exists(p):
                    problems.append(f"no {s} maintainer script")
                    continue
                if stat.S_IMODE(os.stat(p).st_mode) != 0o755:
                    problems.append(f"{s} has mode {oct(stat.S_IMODE(os.stat(p).st_mode))}, not 0755")
                r = run(["sh", "-n", p])
                if r.returncode != 0:
                    problems.append(f"{s} does not parse: {r.stderr}")

        listing = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
        seen = {}
        for line in listing:
            parts = line.split(None, 5)
            mode, owner, path = parts[0], parts[1], parts[5].split(" -> ")[0]
            if owner != "root/root":
                problems.append(f"{path} is owned by {owner}, not root/root")
            if mode.startswith("d"):
                continue
            seen[path] = mode
        for path, mode in EXPECTED_FILES.items():
            if path not in seen:
                problems.append(f"the package lacks {path}")
            elif seen[path] != mode:
                problems.append(f"{path} has mode {seen[path]}, not {mode}")
        for path in sorted(set(seen) - set(EXPECTED_FILES)):
            problems.append(f"unexpected file in the package: {path}")

        root = os.path.join(tmp, "root")
        r = run(["dpkg-deb", "-x", deb, root])
        if r.returncode != 0:
            problems.append(f"dpkg-deb -x: {r.stderr}")
            return report(problems)
        binary = os.path.join(root, "usr/bin/boxmon")
        conf = os.path.join(root, "etc/boxmon/boxmon.toml")
        r = run([binary, "--config", conf, "--state-dir", os.path.join(tmp, "state"), "config", "check"])
        if r.returncode != 0 or "warn" in r.stderr:
            problems.append(f"`boxmon config check` of the packaged boxmon.toml: exit {r.returncode}\n"
                            f"{r.stdout}{r.stderr}")
        with open(conf, encoding="utf-8") as f, open(os.path.join(source, "packaging/boxmon.toml"),
                                                      encoding="utf-8") as g:
            if f.read() != g.read():
                problems.append("the packaged boxmon.toml differs from packaging/boxmon.toml")
        for page in ["usr/share/man/man1/boxmon.1.gz", "usr/share/man/man5/boxmon.toml.5.gz"]:
            try:
                with gzip.open(os.path.join(root, page), "rt", encoding="utf-8") as f:
                    if not f.read().startswith(".TH "):
                        problems.append(f"{page} is not a man page")
            except OSError as e:
                problems.append(f"{page}: {e}")
        if shutil.which("bash"):
            r = run(["bash", "-n", os.path.join(root, "usr/share/bash-completion/completions/boxmon")])
            if r.returncode != 0:
                problems.append(f"the bash completion does not parse: {r.stderr}")
        if shutil.which("systemd-analyze"):
            problems += check_units.check(os.path.join(root, "usr/lib/systemd/system"), binary,
                                          [os.path.join(root, "usr/share/man")])
        else:
            print("note: no systemd-analyze; the packaged units are not verified")
    return report(problems)


def report(problems):
    for p in problems:
        print(p)
    if not problems:
        print("the package holds exactly the expected files, modes, conffile and scripts")
    return 1 if problems else 0


def install(out_dir):
    if os.geteuid() != 0:
        print("skipped: installing the package needs root (CI runs as root)")
        return SKIP
    if not shutil.which("dpkg"):
        print("skipped: no dpkg here")
        return SKIP
    if os.environ.get("BOXMON_TEST_DPKG_INSTALL") != "1":
        print("skipped: set BOXMON_TEST_DPKG_INSTALL=1 to install the package on this machine with dpkg -i and "
              "purge it afterwards (scripts/test.sh does, for CI)")
        return SKIP
    deb = find_deb(out_dir)
    if not deb:
        print(f"no package in {out_dir}; packaging.deb_contents builds it")
        return 1
    # One test run at a time may use dpkg here.
    lock = open(os.path.join(tempfile.gettempdir(), "boxmon-deb-test.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    if run(["dpkg-query", "-W", "-f=${Status}", "boxmon"]).stdout.startswith("install ok"):
        print("skipped: a boxmon package is installed on this machine already; not touching it")
        return SKIP
    if os.path.exists("/usr/bin/boxmon") or os.path.exists("/etc/boxmon"):
        print("skipped: /usr/bin/boxmon or /etc/boxmon exists already (not from a package); not touching it")
        return SKIP
    problems = []
    try:
        problems += install_checks(deb)
    finally:
        r = run(["dpkg", "--purge", "boxmon"])
        if r.returncode != 0:
            problems.append(f"dpkg --purge boxmon: exit {r.returncode}\n{r.stdout}{r.stderr}")
    for path in ["/usr/bin/boxmon", "/etc/boxmon", "/var/lib/boxmon", "/usr/lib/systemd/system/boxmon.service",
                 "/etc/systemd/system/multi-user.target.wants/boxmon.service"]:
        if os.path.lexists(path):
            problems.append(f"{path} is still there after the purge")
    if run(["dpkg-query", "-W", "-f=${Status}", "boxmon"]).stdout.startswith("install ok"):
        problems.append("dpkg still lists boxmon as installed after the purge")
    if not problems:
        print("installed, checked, reinstalled over a changed configuration and purged cleanly")
    for p in problems:
        print(p)
    return 1 if problems else 0


def unit_value(unit, key):
    """The value of the first `key=` line of an installed unit."""
    with open(unit, encoding="utf-8") as f:
        for line in f:
            if line.startswith(key + "="):
                return line[len(key) + 1:].strip()
    raise SystemExit(f"{unit} has no {key}=")


def exec_start(unit):
    """The ExecStart= command line of an installed unit, split (boxmon's units use no quoting)."""
    return unit_value(unit, "ExecStart").split()


def install_checks(deb):
    problems = []
    env = {k: v for k, v in os.environ.items() if k != "BOXMON_CONFIG"}
    env["DEBIAN_FRONTEND"] = "noninteractive"
    r = run(["dpkg", "-i", deb], env=env)
    if r.returncode != 0:
        return [f"dpkg -i: exit {r.returncode}\n{r.stdout}{r.stderr}"]
    try:
        user = pwd.getpwnam("boxmon")
    except KeyError:
        return ["the postinst did not create the user boxmon"]
    group = grp.getgrnam("boxmon")
    st = os.stat("/var/lib/boxmon")
    if stat.S_IMODE(st.st_mode) != 0o700 or st.st_uid != user.pw_uid:
        problems.append(f"/var/lib/boxmon is mode {oct(stat.S_IMODE(st.st_mode))} uid {st.st_uid}, not 0700 boxmon")
    st = os.stat("/etc/boxmon/boxmon.toml")
    if stat.S_IMODE(st.st_mode) != 0o640 or st.st_gid != group.gr_gid or st.st_uid != 0:
        problems.append(f"/etc/boxmon/boxmon.toml is mode {oct(stat.S_IMODE(st.st_mode))} "
                        f"{st.st_uid}:{st.st_gid}, not 0640 root:boxmon")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "boxmon"]).stdout
    if "/etc/boxmon/boxmon.toml" not in conffiles:
        problems.append(f"dpkg does not track /etc/boxmon/boxmon.toml as a conffile: {conffiles!r}")
    if shutil.which("deb-systemd-helper") and not os.path.islink(
            "/etc/systemd/system/multi-user.target.wants/boxmon.service"):
        problems.append("the postinst did not enable boxmon.service")
    # The installed binary finds /etc/boxmon/boxmon.toml on its own, as root and as the service user.
    r = run(["/usr/bin/boxmon", "config", "check"], env=env)
    if r.returncode != 0 or "warn" in r.stderr:
        problems.append(f"`boxmon config check` (installed, as root): exit {r.returncode}\n{r.stdout}{r.stderr}")
    if shutil.which("setpriv"):
        r = run(["setpriv", "--reuid=boxmon", "--regid=boxmon", "--init-groups", "/usr/bin/boxmon", "config",
                 "check"], env={**env, "HOME": "/var/lib/boxmon"})
        if r.returncode != 0:
            problems.append(f"`boxmon config check` as the user boxmon: exit {r.returncode}\n{r.stdout}{r.stderr}")
    # What the timer and the daemon run, as their units run them: ExecStart as the user boxmon,
    # in the state directory systemd would hand it (there is no systemd PID 1 here to start them).
    if shutil.which("setpriv"):
        as_boxmon = ["setpriv", "--reuid=boxmon", "--regid=boxmon", "--init-groups"]
        # StateDirectory=boxmon: systemd creates /var/lib/boxmon and sets $STATE_DIRECTORY.
        service_env = {**env, "HOME": "/var/lib/boxmon",
                       "STATE_DIRECTORY": "/var/lib/" + unit_value("/usr/lib/systemd/system/boxmon.service",
                                                                   "StateDirectory")}
        sample = exec_start("/usr/lib/systemd/system/boxmon-sample.service")
        r = run(as_boxmon + sample, env=service_env, timeout=60)
        db = "/var/lib/boxmon/boxmon.db"
        if r.returncode != 0:
            problems.append(f"the sample unit's `{' '.join(sample)}` as the user boxmon: exit {r.returncode}\n"
                            f"{r.stdout}{r.stderr}")
        elif not os.path.exists(db) or os.stat(db).st_uid != user.pw_uid:
            problems.append(f"`{' '.join(sample)}` as the user boxmon left no {db} owned by boxmon")
        else:
            ticks = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT count(*) FROM ticks").fetchone()[0]
            if ticks != 1:
                problems.append(f"`{' '.join(sample)}` stored {ticks} ticks in {db}, not 1")
        daemon = exec_start("/usr/lib/systemd/system/boxmon.service")
        p = subprocess.Popen(as_boxmon + daemon, env=service_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(2)
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        if p.returncode != 0 or "boxmon running" not in err:
            problems.append(f"the daemon unit's `{' '.join(daemon)}` as the user boxmon, stopped with SIGTERM: "
                            f"exit {p.returncode}\n{out}{err}")
    if shutil.which("systemd-analyze"):
        r = run(["systemd-analyze", "verify", "--man=no", "/usr/lib/systemd/system/boxmon.service",
                 "/usr/lib/systemd/system/boxmon-sample.service", "/usr/lib/systemd/system/boxmon-sample.timer"])
        if r.returncode != 0 or (r.stdout + r.stderr).strip():
            problems.append(f"systemd-analyze verify of the installed units:\n{r.stdout}{r.stderr}")
    # A changed configuration survives a reinstall (dpkg keeps a modified conffile).
    with open("/etc/boxmon/boxmon.toml", "a", encoding="utf-8") as f:
        f.write("# changed by the administrator\n")
    r = run(["dpkg", "-i", "--force-confold", deb], env=env)
    if r.returncode != 0:
        problems.append(f"dpkg -i over the installed package: exit {r.returncode}\n{r.stdout}{r.stderr}")
    with open("/etc/boxmon/boxmon.toml", encoding="utf-8") as f:
        if "# changed by the administrator" not in f.read():
            problems.append("a reinstall replaced the changed /etc/boxmon/boxmon.toml")
    if os.stat("/etc/boxmon/boxmon.toml").st_gid != group.gr_gid:
        problems.append("a reinstall lost the group boxmon of /etc/boxmon/boxmon.toml")
    return problems


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "contents":
        return contents(*sys.argv[2:7])
    if len(sys.argv) == 3 and sys.argv[1] == "install":
        return install(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
