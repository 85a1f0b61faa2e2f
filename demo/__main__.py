from demo.runner import main

raise SystemExit(main())
