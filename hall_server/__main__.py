from hall_server.cli import main

raise SystemExit(main())
