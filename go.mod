module roachwatch

go 1.26.0
