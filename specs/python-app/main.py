"""A tiny app that reads its private configuration file and says hello."""
import os
import pathlib

CONFIG = pathlib.Path(__file__).with_name("sensitive-config")


def main():
    settings = dict(
        line.split("=", 1)
        for line in CONFIG.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    print("hello from uid %d, greeting %s" % (os.getuid(), settings.get("greeting", "?").strip()))


if __name__ == "__main__":
    main()
