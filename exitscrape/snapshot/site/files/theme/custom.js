/* exitscrape snapshot: stand-in for the Weebly theme script */
