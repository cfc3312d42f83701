# DR bundle: tests open the bundle with Debian's `age` (not our code) and drive its passphrase prompt
# through a terminal (tmux, installed by test-env.sh).
command -v age >/dev/null 2>&1 || apt_install age
