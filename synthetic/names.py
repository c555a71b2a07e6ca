"""Name, street and venue vocabularies.

Lists are short, hand-written and invented for the simulation; frequencies
follow a Zipf-like curve so that common names produce realistic namesakes.
"""

from __future__ import annotations

MALE_FIRST = (
    "Oliver James William Jack Harry George Thomas Mohammed Noah Charlie Jacob Alfie Freddie "
    "Oscar Leo Joshua Daniel Samuel Joseph Henry Archie Ethan Lucas Adam Alexander Benjamin "
    "Michael David Robert Richard Christopher Matthew Andrew Anthony Mark Paul Steven Peter "
    "John Stephen Kevin Gary Lee Jamie Ryan Connor Callum Kyle Liam Dylan Tyler Reece Jordan "
    "Luke Nathan Aaron Ben Sam Max Isaac Muhammad Ali Omar Hassan Ibrahim Yusuf Arjun Rohan "
    "Aarav Krishna Vikram Sanjay Rajesh Tomasz Piotr Krzysztof Marek Jakub Kwame Kofi Tunde "
    "Chinedu Emeka Darren Wayne Dean Craig Shane Patrick Sean Declan Kieran Ciaran Owen Rhys "
    "Edward Frederick Nicholas Jonathan Timothy Simon Graham Keith Ian Colin"
).split()

FEMALE_FIRST = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Sophia Grace Freya Florence Emily Poppy "
    "Ella Evie Charlotte Sophie Jessica Chloe Lucy Ruby Hannah Emma Sarah Laura Rebecca "
    "Rachel Katherine Elizabeth Victoria Jennifer Nicola Michelle Lisa Karen Julie Helen "
    "Claire Joanne Samantha Amy Natalie Gemma Kelly Stacey Jade Leanne Danielle Shannon "
    "Megan Courtney Paige Holly Bethany Abigail Alice Zara Aisha Fatima Maryam Zainab "
    "Amina Khadija Priya Anjali Sunita Kavita Pooja Agnieszka Katarzyna Magdalena Anna "
    "Joanna Abena Ama Chioma Ngozi Folake Siobhan Niamh Aoife Caitlin Bridget Margaret "
    "Patricia Susan Deborah Christine Jacqueline Alison Louise Rosie Phoebe Harriet Matilda"
).split()

SURNAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham "
    "Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders "
    "Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson "
    "Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes "
    "Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods "
    "Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed "
    "Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
    "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne "
    "Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss "
    "McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon "
    "Doyle Wallace George Jordan Hutchinson Rahman Kowalski Nowak Wisniewski Mensah Okafor "
    "Adeyemi Osei Nguyen Chen Wang Kumar Sharma Choudhury Mahmood Iqbal Akhtar Hassan Malik"
).split()

# First name -> nicknames / short forms a clerk might record instead.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Dick", "Rich"),
    "Michael": ("Mike", "Mick", "Micky"),
    "Christopher": ("Chris", "Kit"),
    "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"),
    "Anthony": ("Tony", "Ant"),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "Thomas": ("Tom", "Tommy"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Joseph": ("Joe", "Joey"),
    "Daniel": ("Dan", "Danny"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex", "Sandy"),
    "Jonathan": ("Jon", "Jonny"),
    "Nicholas": ("Nick", "Nicky"),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Frederick": ("Fred", "Freddie"),
    "Timothy": ("Tim",),
    "Patrick": ("Pat", "Paddy"),
    "Joshua": ("Josh",),
    "Nathan": ("Nate",),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "David": ("Dave", "Davy"),
    "Peter": ("Pete",),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Jennifer": ("Jenny", "Jen"),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam", "Sammy"),
    "Victoria": ("Vicky", "Tori"),
    "Jessica": ("Jess",),
    "Margaret": ("Maggie", "Peggy"),
    "Patricia": ("Pat", "Trish"),
    "Susan": ("Sue", "Suzy"),
    "Deborah": ("Debbie", "Deb"),
    "Christine": ("Chris", "Tina"),
    "Jacqueline": ("Jackie",),
    "Abigail": ("Abby",),
    "Nicola": ("Nicky",),
    "Charlotte": ("Charlie", "Lottie"),
    "Isabella": ("Bella", "Izzy"),
    "Natalie": ("Nat",),
    "Danielle": ("Dani",),
    "Harriet": ("Hattie",),
    "Matilda": ("Tilly",),
}

# Alternative spellings, both directions (a clerk's or a system's transliteration).
SPELLING_VARIANTS: dict[str, tuple[str, ...]] = {
    "Mohammed": ("Muhammad", "Mohammad", "Mohamed"),
    "Muhammad": ("Mohammed", "Mohamed"),
    "Thompson": ("Thomson",),
    "Smith": ("Smyth",),
    "Clarke": ("Clark",),
    "Clark": ("Clarke",),
    "Stephen": ("Steven",),
    "Steven": ("Stephen",),
    "Jon": ("John",),
    "Catherine": ("Katherine", "Kathryn"),
    "Katherine": ("Catherine", "Kathryn"),
    "Philips": ("Phillips",),
    "Phillips": ("Philips",),
    "Hussain": ("Hussein", "Husain"),
    "Ahmed": ("Ahmad",),
    "Choudhury": ("Chowdhury", "Choudhry"),
    "Reid": ("Reed", "Read"),
    "Reed": ("Reid",),
    "Gray": ("Grey",),
    "Stewart": ("Stuart",),
    "McDonald": ("MacDonald", "Macdonald"),
    "O'Brien": ("OBrien", "O Brien"),
    "O'Connor": ("OConnor", "O Connor"),
    "O'Neill": ("ONeill", "O'Neil"),
    "Aisha": ("Ayesha", "Aishah"),
    "Fatima": ("Fatimah",),
    "Zainab": ("Zaynab",),
    "Wisniewski": ("Wisnewski",),
    "Nowak": ("Novak",),
    "Sean": ("Shaun", "Shawn"),
    "Niamh": ("Neve",),
    "Siobhan": ("Shivaun",),
    "Jamie": ("Jaime",),
    "Leanne": ("Lianne",),
    "Kelly": ("Kelley",),
    "Ethan": ("Eathan",),
}

STREET_STEMS = (
    "Station Church Mill High Park London Oxford Reading Windsor Victoria Albert Queens Kings "
    "Manor Chapel School Bridge Green Meadow Orchard Elm Oak Ash Beech Willow Cedar Holly "
    "Hawthorn Chestnut Sycamore Priory Abbey Castle Market Brook Spring Well Windmill Forge "
    "Hill Valley Field Grange Hall Court Farm Wood Heath Common Lodge Rectory Vicarage Cross "
    "Union Nelson Wellington Milton Shakespeare Newton Darwin Cromwell Churchill Gladstone "
    "Marlborough Blenheim Chiltern Cotswold Thames Kennet Loddon Cherwell Isis Ock Colne "
    "Wycombe Banbury Abingdon Witney Thame Henley Marlow Bicester Didcot Wantage Newbury "
    "Hungerford Aylesbury Amersham Chesham Beacon Ridgeway Icknield Harcourt Radcliffe "
    "Bodley Addison Falcon Kestrel Swallow Heron Kingfisher Lark Linnet Robin Wren Curlew "
    "Primrose Bluebell Foxglove Lavender Rosemary Poplar Larch Rowan Hazel Alder Maple Laurel"
).split()
STREET_SUFFIXES = (
    "Road Road Road Street Street Lane Lane Close Close Avenue Way Drive Crescent Gardens "
    "Place Grove Court Walk Rise View Terrace Mews Row Green Hill End Square Parade"
).split()

# Names for simulated licensed premises and takeaways (for venue text in A&E data).
VENUE_WORDS = (
    "Red Lion|White Hart|Kings Arms|Crown|Royal Oak|Plough|Bell|Swan|George|Rose and Crown|"
    "Black Horse|Star|Wheatsheaf|Queens Head|Fox|Railway Tavern|Eagle|Lamb|Mitre|Anchor"
).split("|")
BAR_WORDS = (
    "Vodka Revolution|Slug and Lettuce|Be At One|Lola Lo|Tiger Tiger|Atik|Bridge|Pryzm|Fez"
).split("|")
FAST_FOOD_WORDS = (
    "Chicken Shack|Kebab House|Pizza Express|Fish Bar|Burger Joint|Noodle Bar"
).split("|")
