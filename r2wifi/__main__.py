from r2wifi.cli.main import run

run()
