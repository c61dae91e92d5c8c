from r2wifi.cli.main import main

raise SystemExit(main())
