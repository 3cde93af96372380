from hopsfs_tools.cli.main import main

main(prog_name="hopsfs-tools")
