from demo.traffic.simulation import main

raise SystemExit(main())
